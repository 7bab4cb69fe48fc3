import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulatedPool } from '../../../src/lib/xapi/sim';
import { postForm, sessionCookie, startPoolAndHaven, type PoolAndHaven, type RunningHaven } from '../helpers/haven-server';

const PASSWORD = 'slow-pool-password';
let sim: RunningSimulatedPool;
let haven: RunningHaven;
let running: PoolAndHaven | undefined;

beforeAll(async () => {
	running = await startPoolAndHaven(PASSWORD);
	({ sim, haven } = running);
});

afterAll(async () => {
	await running?.stop();
});

const latency = (body: unknown) => fetch(`${sim.url}/control/latency`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('a pool that answers slowly', () => {
	it('is waited for, not reported as down, and Haven answers once it has', async () => {
		const cookie = sessionCookie(await postForm(haven.url, '/login', { pool: sim.address, user: 'helpdesk', password: PASSWORD }))?.split(';')[0] ?? '';
		expect((await latency({ ms: 700 })).status).toBe(200);
		try {
			const started = Date.now();
			const res = await fetch(`${haven.url}/pool`, { headers: { cookie } });
			expect(res.status).toBe(200);
			expect(await res.text()).toContain('xcp-host-1');
			expect(Date.now() - started).toBeGreaterThanOrEqual(700);
			// Other users are not held up by the slow pool while it answers.
			const login = await fetch(`${haven.url}/login`);
			expect(login.status).toBe(200);
		} finally {
			await latency({ ms: 0 });
		}
		const started = Date.now();
		expect((await fetch(`${haven.url}/api/pool/snapshot`, { headers: { cookie } })).status).toBe(200);
		expect(Date.now() - started).toBeLessThan(700);
	});

	it('the control endpoint names a bad latency body', async () => {
		const res = await latency({ ms: -5 });
		expect(res.status).toBe(400);
		expect(await res.text()).toContain('want {\\"ms\\": 0..120000}');
	});
});
