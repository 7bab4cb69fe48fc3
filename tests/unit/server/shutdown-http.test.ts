import { describe, expect, it } from 'vitest';
import { loginCookie, usePoolAndHaven } from '../helpers/haven-server';

const PASSWORD = 'shutdown-password';
const pair = usePoolAndHaven(PASSWORD);

describe('stopping Haven', () => {
	it('ends open live streams, logs its pool sessions out and exits on SIGTERM', async () => {
		const cookie = await loginCookie(pair, 'helpdesk', PASSWORD);
		const stream = await fetch(`${pair.haven.url}/api/events`, { headers: { cookie } });
		expect(stream.status).toBe(200);
		const reader = stream.body!.getReader();
		await reader.read();
		expect(pair.sim.pool.sessions.size).toBeGreaterThan(0);

		const exited = new Promise<number | null>((resolve) => pair.haven.child.once('exit', (code) => resolve(code)));
		pair.haven.child.kill('SIGTERM');
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
		expect(pair.sim.pool.sessions.size).toBe(0);
		expect(pair.haven.output()).toContain('Haven stopped');
	});
});
