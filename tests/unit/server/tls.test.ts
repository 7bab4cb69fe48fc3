import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseFingerprint, probeCertificate, UntrustedCertificateError, untrustedCertificateIn, verifiedFetch } from '../../../src/lib/server/tls';
import { XapiClient } from '../../../src/lib/xapi/client';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim';
import { autoTransport } from '../../../src/lib/xapi/transport';
import { selfSignedCert, startTlsFront, type SelfSignedCert } from '../helpers/tls-front';

const PASSWORD = 'tls-test-password';
let sim: RunningSimulatedPool;
let cert: SelfSignedCert;
let front: Awaited<ReturnType<typeof startTlsFront>>;

beforeAll(async () => {
	sim = await startSimulatedPool({ scenario: 'small', port: 0, password: PASSWORD, authFailureDelayMs: 10 });
	cert = selfSignedCert();
	front = await startTlsFront(sim.url, cert);
});

afterAll(async () => {
	await front?.close();
	await sim?.stop();
});

function clientWith(trust: Parameters<typeof verifiedFetch>[0]): XapiClient {
	return new XapiClient({ address: front.url, transport: (url) => autoTransport(url.toString(), { fetch: verifiedFetch(trust), timeoutMs: 5000 }) });
}

describe('TLS to pools', () => {
	it('reads the fingerprint the pool presents, as openssl prints it', async () => {
		const seen = await probeCertificate('127.0.0.1', front.port);
		expect(normaliseFingerprint(seen.fingerprint256)).toBe(normaliseFingerprint(cert.fingerprint256));
		expect(seen.pem).toContain('BEGIN CERTIFICATE');
	});

	it('never skips verification: a self-signed pool is refused without a CA or pin', async () => {
		const client = clientWith({});
		const error = await client.login('admin', PASSWORD).catch((e: unknown) => e);
		const untrusted = untrustedCertificateIn(error);
		expect(untrusted).toBeInstanceOf(UntrustedCertificateError);
		expect(client.loggedIn).toBe(false);
	});

	it('accepts the pool when its certificate is pinned', async () => {
		const seen = await probeCertificate('127.0.0.1', front.port);
		const client = clientWith({ pin: { fingerprint256: seen.fingerprint256, pem: seen.pem } });
		await client.login('admin', PASSWORD);
		expect(Object.keys(await client.getAllRecords('host'))).toHaveLength(3);
		await client.logout();
	});

	it('refuses a pool whose certificate differs from the pin', async () => {
		const other = selfSignedCert();
		const client = clientWith({ pin: { fingerprint256: other.fingerprint256, pem: other.cert } });
		const error = await client.login('admin', PASSWORD).catch((e: unknown) => e);
		expect(untrustedCertificateIn(error)).toBeInstanceOf(UntrustedCertificateError);
	});

	it('accepts a pool signed by the configured CA', async () => {
		const client = clientWith({ ca: cert.cert });
		await client.login('admin', PASSWORD);
		expect(client.loggedIn).toBe(true);
		await client.logout();
	});

	it('answers plain fetch semantics: status and body', async () => {
		const seen = await probeCertificate('127.0.0.1', front.port);
		const f = verifiedFetch({ pin: { fingerprint256: seen.fingerprint256, pem: seen.pem } });
		const res = await f(`${front.url}/jsonrpc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', method: 'system.listMethods', params: [], id: 1 }) });
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe('application/json');
	});
});
