import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, postForm, cookieHeader, usePoolAndHaven } from '../helpers/haven-server';

const PASSWORD = 'expiry-test-password-77';
const pair = usePoolAndHaven(PASSWORD, { HAVEN_SESSION_IDLE_MS: '800' });

describe('session expiry', () => {
	it('ends an idle session and logs its XAPI session out on the pool', async () => {
		const res = await postForm(pair.haven.url, '/login', { pool: pair.sim.address, user: 'admin', password: PASSWORD });
		const cookie = cookieHeader(res);
		expect((await fetch(`${pair.haven.url}/pool`, { headers: { cookie }, redirect: 'manual' })).status).toBe(200);
		const open = pair.sim.pool.sessions.size;
		await new Promise((r) => setTimeout(r, 1200));
		const after = await fetch(`${pair.haven.url}/pool`, { headers: { cookie }, redirect: 'manual' });
		expect(after.status).toBe(303);
		expect(after.headers.get('location')).toBe('/login');
		await expect.poll(() => pair.sim.pool.sessions.size).toBe(open - 1);
	});
});

describe('secrets stay on the server', () => {
	function filesUnder(dir: string): string[] {
		return readdirSync(dir).flatMap((name) => {
			const path = join(dir, name);
			return statSync(path).isDirectory() ? filesUnder(path) : [path];
		});
	}

	it('the client bundle holds no password, session ref or server-only module', () => {
		const files = filesUnder(join(ROOT, 'build', 'client'));
		expect(files.length).toBeGreaterThan(0);
		for (const file of files.filter((f) => /\.(js|html|css|json)$/.test(f))) {
			const text = readFileSync(file, 'utf8');
			expect(text, file).not.toContain(PASSWORD);
			expect(text, file).not.toContain('e2e-demo-password');
			expect(text, file).not.toMatch(/HAVEN_SIM_PASSWORD|DATABASE_URL|login_with_password/);
		}
	});

	it('no log line carries the password or an XAPI session ref', async () => {
		await postForm(pair.haven.url, '/login', { pool: pair.sim.address, user: 'admin', password: 'a-wrong-one-123' });
		const res = await postForm(pair.haven.url, '/login', { pool: pair.sim.address, user: 'admin', password: PASSWORD });
		expect(res.status).toBe(303);
		const output = pair.haven.output();
		expect(output).toContain('session opened');
		expect(output).not.toContain(PASSWORD);
		expect(output).not.toContain('a-wrong-one-123');
		for (const ref of pair.sim.pool.sessions.keys()) expect(output).not.toContain(ref.replace('OpaqueRef:', ''));
	});
});
