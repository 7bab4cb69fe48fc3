import { describe, expect, it } from 'vitest';
import { postForm, sessionCookie, cookieHeader, usePoolAndHaven } from '../helpers/haven-server';

const PASSWORD = 'login-http-secret-9f3';

const pair = usePoolAndHaven(PASSWORD);

async function login(user = 'admin', password = PASSWORD): Promise<Response> {
	return postForm(pair.haven.url, '/login', { pool: pair.sim.address, user, password });
}

describe('login over HTTP against the simulated pool', () => {
	it('sets an httpOnly, SameSite=Strict cookie holding only an opaque id', async () => {
		const before = pair.sim.pool.sessions.size;
		const res = await login();
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/pool');
		const cookie = sessionCookie(res);
		expect(cookie).toBeDefined();
		expect(cookie).toMatch(/; HttpOnly/i);
		expect(cookie).toMatch(/; SameSite=Strict/i);
		expect(cookie).toMatch(/; Path=\//i);
		// Served over plain HTTP here, so not Secure (the browser would drop it otherwise).
		expect(cookie).not.toMatch(/; Secure/i);
		expect(pair.sim.pool.sessions.size).toBe(before + 1);
		const value = cookie?.split(';')[0]?.split('=')[1] ?? '';
		expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
		for (const ref of pair.sim.pool.sessions.keys()) expect(cookie).not.toContain(ref.replace('OpaqueRef:', ''));
	});

	it('draws the pool for the session and never sends the password or the XAPI session ref', async () => {
		const cookie = cookieHeader(await login());
		const res = await fetch(`${pair.haven.url}/pool`, { headers: { cookie } });
		expect(res.status).toBe(200);
		const html = await res.text();
		for (const host of ['xcp-host-1', 'xcp-host-2', 'xcp-host-3']) expect(html).toContain(host);
		expect(html).not.toContain(PASSWORD);
		for (const ref of pair.sim.pool.sessions.keys()) {
			expect(html).not.toContain(ref);
			expect(html).not.toContain(ref.replace('OpaqueRef:', ''));
		}
		expect(pair.haven.output()).not.toContain(PASSWORD);
	});

	it('answers a wrong password with the pool refusal, keeping the typed user', async () => {
		const res = await login('admin', 'wrong');
		expect(res.status).toBe(401);
		const body = await res.text();
		expect(body).toContain('SESSION_AUTHENTICATION_FAILED');
		expect(body).toContain('The pool refused the user name or password');
		// Without JavaScript the re-rendered form still holds what was typed.
		expect(body).toMatch(/<input[^>]*name="user"[^>]*value="admin"|<input[^>]*value="admin"[^>]*name="user"/);
		expect(sessionCookie(res)).toBeUndefined();
	});

	it('refuses a pool address that is not configured', async () => {
		const res = await postForm(pair.haven.url, '/login', { pool: '127.0.0.9:1', user: 'admin', password: PASSWORD });
		expect(res.status).toBe(400);
		expect(await res.text()).toContain('not configured to manage a pool');
	});

	it('rate-limits failed logins per user and address, even for the right password after', async () => {
		for (let i = 0; i < 5; i++) expect((await login('operator', `wrong-${i}`)).status).toBe(401);
		const blocked = await login('operator', PASSWORD);
		expect(blocked.status).toBe(429);
		expect(await blocked.text()).toContain('Too many login attempts');
		expect(sessionCookie(blocked)).toBeUndefined();
		// Other users from the same address are not locked out by someone else's failures.
		expect((await login('helpdesk', PASSWORD)).status).toBe(303);
	});

	it('refuses a cross-site post', async () => {
		const res = await postForm(pair.haven.url, '/login', { pool: pair.sim.address, user: 'admin', password: PASSWORD }, { origin: 'https://evil.example' });
		expect(res.status).toBe(403);
		expect(sessionCookie(res)).toBeUndefined();
	});

	it('sends security headers', async () => {
		const res = await fetch(`${pair.haven.url}/login`);
		expect(res.headers.get('x-content-type-options')).toBe('nosniff');
		expect(res.headers.get('x-frame-options')).toBe('DENY');
		const csp = res.headers.get('content-security-policy') ?? '';
		expect(csp).toContain("frame-ancestors 'none'");
		expect(csp).toMatch(/script-src 'self'( 'sha256-[^']+')*(;|$)/);
		expect(csp).not.toContain("'unsafe-inline' 'unsafe-eval'");
	});

	it('logs out: the XAPI session is closed on the pool and the cookie cleared', async () => {
		const cookie = cookieHeader(await login());
		const open = pair.sim.pool.sessions.size;
		const res = await postForm(pair.haven.url, '/logout', {}, { cookie });
		expect(res.status).toBe(303);
		expect(res.headers.get('location')).toBe('/login');
		expect(sessionCookie(res)).toMatch(/haven_session=;|Max-Age=0|Expires=Thu, 01 Jan 1970/);
		expect(pair.sim.pool.sessions.size).toBe(open - 1);
		const after = await fetch(`${pair.haven.url}/pool`, { headers: { cookie }, redirect: 'manual' });
		expect(after.status).toBe(303);
		expect(after.headers.get('location')).toBe('/login');
	});
});
