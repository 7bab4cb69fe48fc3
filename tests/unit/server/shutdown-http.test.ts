import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulatedPool } from '../../../src/lib/xapi/sim';
import { postForm, sessionCookie, startPoolAndHaven, type PoolAndHaven, type RunningHaven } from '../helpers/haven-server';

const PASSWORD = 'shutdown-password';
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

describe('stopping Haven', () => {
	it('ends open live streams, logs its pool sessions out and exits on SIGTERM', async () => {
		const cookie = sessionCookie(await postForm(haven.url, '/login', { pool: sim.address, user: 'helpdesk', password: PASSWORD }))?.split(';')[0] ?? '';
		const stream = await fetch(`${haven.url}/api/events`, { headers: { cookie } });
		expect(stream.status).toBe(200);
		const reader = stream.body!.getReader();
		await reader.read();
		expect(sim.pool.sessions.size).toBeGreaterThan(0);

		const exited = new Promise<number | null>((resolve) => haven.child.once('exit', (code) => resolve(code)));
		haven.child.kill('SIGTERM');
		const started = Date.now();
		// The stream is closed by the server (an 'ended' event, then end of body).
		let text = '';
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			text += new TextDecoder().decode(value);
		}
		expect(text).toContain('event: ended');
		expect(await exited).toBe(0);
		expect(Date.now() - started).toBeLessThan(10_000);
		expect(sim.pool.sessions.size).toBe(0);
		expect(haven.output()).toContain('Haven stopped');
	});
});
