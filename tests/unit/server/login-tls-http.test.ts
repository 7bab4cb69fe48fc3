import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseFingerprint } from '../../../src/lib/server/tls';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim';
import { cookieHeader, postForm, sessionCookie, startHaven, type RunningHaven } from '../helpers/haven-server';
import { selfSignedCert, startTlsFront } from '../helpers/tls-front';

const PASSWORD = 'tls-login-password';
let sim: RunningSimulatedPool;
let front: Awaited<ReturnType<typeof startTlsFront>>;
let haven: RunningHaven;
const cert = selfSignedCert();

beforeAll(async () => {
	sim = await startSimulatedPool({ scenario: 'small', port: 0, password: PASSWORD, authFailureDelayMs: 10 });
	front = await startTlsFront(sim.url, cert);
	haven = await startHaven({ HAVEN_POOLS: `secure=${front.url}`, HAVEN_EMBEDDED_SIM: 'none' });
});

afterAll(async () => {
	await haven?.stop();
	await front?.close();
	await sim?.stop();
});

const login = (user: string, extra: Record<string, string> = {}) => postForm(haven.url, '/login', { pool: front.url, user, password: PASSWORD, ...extra });

describe('first connection to a pool with a self-signed certificate', () => {
	it('shows the fingerprint to confirm instead of connecting', async () => {
		const res = await login('admin');
		expect(res.status).toBe(495);
		const body = await res.text();
		expect(body).toContain('UNTRUSTED_CERTIFICATE');
		expect(body).toContain(normaliseFingerprint(cert.fingerprint256));
		expect(sessionCookie(res)).toBeUndefined();
	});

	it('refuses a confirmation of a fingerprint the pool does not present', async () => {
		const res = await login('admin', { confirm_fingerprint: normaliseFingerprint(selfSignedCert().fingerprint256) });
		expect(res.status).toBe(409);
		expect(await res.text()).toContain('CERTIFICATE_CHANGED');
	});

	it('lets only a pool-operator or above confirm it', async () => {
		const res = await login('helpdesk', { confirm_fingerprint: cert.fingerprint256 });
		expect(res.status).toBe(403);
		expect((await login('helpdesk')).status).toBe(495);
	});

	it('pins it once an admin confirms, and later logins need no confirmation', async () => {
		const confirmed = await login('admin', { confirm_fingerprint: cert.fingerprint256 });
		expect(confirmed.status).toBe(303);
		const later = await login('helpdesk');
		expect(later.status).toBe(303);
		const cookie = cookieHeader(later);
		const page = await fetch(`${haven.url}/pool`, { headers: { cookie } });
		expect(await page.text()).toContain('xcp-host-1');
	});
});
