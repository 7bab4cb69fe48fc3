import { beforeAll, describe, expect, it } from 'vitest';
import { loginCookie, postForm, usePoolAndHaven } from '../helpers/haven-server';

/**
 * Malformed input to Haven's own pages and endpoints (the /api/ha operations have their own
 * table in operations tests): each gets a clear 4xx naming the problem, and the server keeps
 * serving afterwards.
 */
const PASSWORD = 'bad-input-password';
const pair = usePoolAndHaven(PASSWORD);
let cookie = '';

beforeAll(async () => {
	cookie = await loginCookie(pair, 'helpdesk', PASSWORD);
	expect(cookie).toMatch(/^haven_session=/);
});

const get = (path: string, withCookie = true) => fetch(`${pair.haven.url}${path}`, { headers: withCookie ? { cookie } : {}, redirect: 'manual' });

describe('login form', () => {
	const cases: [string, Record<string, string>, number, RegExp][] = [
		['missing user', { pool: '', user: '', password: 'x' }, 400, /Pool address is required|User name is required/],
		['blank password', { pool: 'p', user: 'u', password: '' }, 400, /Password is required/],
		['huge user name', { pool: 'p', user: 'u'.repeat(5000), password: 'x' }, 400, /User name is too long/],
		['odd unicode in the pool address', { pool: '\u202e\u0000🙃', user: 'u', password: 'x' }, 400, /not configured to manage a pool/],
		['right-to-left override user', { pool: '', user: '\u202eadmin', password: 'x' }, 400, /Pool address is required/]
	];
	for (const [name, fields, status, message] of cases) {
		it(`answers ${status} for ${name}`, async () => {
			const res = await postForm(pair.haven.url, '/login', fields);
			expect(res.status).toBe(status);
			expect(await res.text()).toMatch(message);
		});
	}

	it('refuses a body over the size limit without falling over', async () => {
		const res = await postForm(pair.haven.url, '/login', { pool: pair.sim.address, user: 'admin', password: 'x'.repeat(2 * 1024 * 1024) });
		expect(res.status).toBe(413);
	});

	it('refuses a JSON body where a form is expected', async () => {
		const res = await fetch(`${pair.haven.url}/login`, { method: 'POST', headers: { origin: pair.haven.url, accept: 'text/html', 'content-type': 'application/json' }, body: '{"user": [1]}', redirect: 'manual' });
		expect(res.status).toBeGreaterThanOrEqual(400);
		expect(res.status).toBeLessThan(500);
	});
});

describe('read endpoints', () => {
	const cases: [string, number, RegExp | null][] = [
		['/history?days=0', 400, /days must be a whole number from 1 to 365/],
		['/history?days=1e9', 400, /days must be a whole number/],
		['/history?days=abc', 400, /days must be a whole number/],
		['/history/incidents/abc', 400, /incident id must be a positive whole number/],
		['/history/incidents/-4', 400, /incident id/],
		['/history/incidents/99999999', 404, /No incident 99999999/],
		['/history/audit?outcome=maybe', 400, /outcome must be one of/],
		['/history/audit?from=yesterday-ish', 400, /from is not a date/],
		['/history/audit.csv?to=%F0%9F%99%83', 400, /to is not a date/],
		[`/history/audit?user=${'x'.repeat(500)}`, 400, /user is too long/]
	];
	for (const [path, status, message] of cases) {
		it(`answers ${status} to ${path.slice(0, 60)}`, async () => {
			const res = await get(path);
			expect(res.status).toBe(status);
			if (message) expect(await res.text()).toMatch(message);
		});
	}

	it('answers 401, not data, to API reads without a session', async () => {
		for (const path of ['/api/pool/snapshot', '/api/events', '/history/audit.csv']) {
			const res = await get(path, false);
			expect(res.status, path).toBe(401);
		}
	});

	it('keeps serving after all of the above', async () => {
		const res = await get('/api/pool/snapshot');
		expect(res.status).toBe(200);
		const snapshot = (await res.json()) as { host: Record<string, unknown> };
		expect(Object.keys(snapshot.host)).toHaveLength(3);
	});
});
