import { describe, expect, it } from 'vitest';
import { loginCookie, usePoolAndHaven } from '../helpers/haven-server';

const PASSWORD = 'slow-pool-password';
const pair = usePoolAndHaven(PASSWORD);

const latency = (body: unknown) => fetch(`${pair.sim.url}/control/latency`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('a pool that answers slowly', () => {
	it('is waited for, not reported as down, and Haven answers once it has', async () => {
		const cookie = await loginCookie(pair, 'helpdesk', PASSWORD);
		expect((await latency({ ms: 700 })).status).toBe(200);
		try {
			const started = Date.now();
			const res = await fetch(`${pair.haven.url}/pool`, { headers: { cookie } });
			expect(res.status).toBe(200);
			expect(await res.text()).toContain('xcp-host-1');
			expect(Date.now() - started).toBeGreaterThanOrEqual(700);
			// Other users are not held up by the slow pool while it answers.
			const login = await fetch(`${pair.haven.url}/login`);
			expect(login.status).toBe(200);
		} finally {
			await latency({ ms: 0 });
		}
		const started = Date.now();
		expect((await fetch(`${pair.haven.url}/api/pool/snapshot`, { headers: { cookie } })).status).toBe(200);
		expect(Date.now() - started).toBeLessThan(700);
	});

	it('the control endpoint names a bad latency body', async () => {
		const res = await latency({ ms: -5 });
		expect(res.status).toBe(400);
		expect(await res.text()).toContain('want {\\"ms\\": 0..120000}');
	});
});
