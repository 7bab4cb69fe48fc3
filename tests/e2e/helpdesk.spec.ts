import { expect, test, type Page } from '@playwright/test';
import { poolState } from './ha-setup';
import { login, simAddress } from './helpers';

/** Buttons, form posts and fields that could send a change: only the log-out form may exist. */
async function mutatingControls(page: Page): Promise<string[]> {
	return page.evaluate(() => {
		const found: string[] = [];
		const outsideLogout = (el: Element) => !el.closest('form[action="/logout"]');
		for (const form of document.querySelectorAll('form')) {
			if (!form.getAttribute('action')?.endsWith('/logout')) found.push(`form ${form.getAttribute('method') ?? 'get'} ${form.getAttribute('action') ?? '(this page)'}`);
		}
		for (const el of document.querySelectorAll('button, input[type="submit"], input[type="button"], select, textarea, [contenteditable="true"]')) {
			if (outsideLogout(el)) found.push(`${el.tagName.toLowerCase()} "${(el.textContent ?? '').trim() || el.getAttribute('aria-label') || ''}"`);
		}
		return found;
	});
}

test('a read-only user sees the pool, the HA tab and the logs with no control that changes anything', async ({ page }) => {
	await login(page, 'helpdesk');
	const changes: string[] = [];
	page.on('request', (r) => {
		if (r.method() !== 'GET' && r.method() !== 'HEAD') changes.push(`${r.method()} ${r.url()}`);
	});

	await page.goto('/pool');
	await expect(page.getByTestId('host')).toHaveCount(3);
	expect(await mutatingControls(page)).toEqual([]);

	await page.goto('/pool/ha');
	await expect(page.getByTestId('ha-enabled')).toBeVisible();
	await expect(page.getByTestId('tolerance-max')).not.toHaveText('…');
	expect(await mutatingControls(page)).toEqual([]);

	await page.goto('/pool/logs');
	await expect(page.getByTestId('live-status')).toHaveAttribute('data-connected', 'true');
	expect(await mutatingControls(page)).toEqual([]);
	// The filters are there, and only filter.
	await expect(page.getByTestId('log-search')).toBeVisible();

	await page.goto('/pool/configure');
	await expect(page.getByTestId('view-only-note')).toBeVisible();
	expect(await mutatingControls(page)).toEqual([]);

	// The what-if works for read-only users too: its buttons only change what the page shows.
	await page.goto('/whatif');
	await expect(page.getByTestId('whatif-source')).toHaveAttribute('data-kind', 'live');
	await page.getByRole('button', { name: 'Fail xcp-host-2 in the what-if' }).click();
	await expect(page.getByTestId('whatif-results')).toHaveAttribute('data-stale', 'false');
	const buttons = (await mutatingControls(page)).map((c) => c.replace(/^button "(.*)"$/, '$1'));
	expect(buttons.sort()).toEqual(['Clear', 'Download plan (CSV)', 'Download plan (JSON)', 'Load the live pool', 'Worst case']);

	// Nothing the browser did on any of these pages was a change request.
	expect(changes).toEqual([]);
	await expect(page.getByTestId('view-only')).toBeVisible();
});

test('the server refuses changes from a read-only user whatever the browser sends', async ({ page, baseURL }) => {
	const address = await simAddress(page);
	await login(page, 'helpdesk');
	const origin = baseURL ?? '';
	const post = (path: string, data: unknown, headers: Record<string, string> = {}) =>
		page.request.post(path, { data: data as Record<string, unknown>, headers: { origin, ...headers }, failOnStatusCode: false });

	const crafted: [string, unknown][] = [
		['/api/ha/enable', { heartbeatSr: 'OpaqueRef:whatever', hostFailuresToTolerate: 1, priorities: {} }],
		['/api/ha/reconfigure', { hostFailuresToTolerate: 0, priorities: {} }],
		['/api/ha/disable', {}],
		['/api/ha/designate_new_master', { host: 'xcp-host-2' }],
		['/api/ha/enable', 'not even JSON']
	];
	for (const [path, body] of crafted) {
		const res = await post(path, body);
		expect(res.status(), `${path} ${JSON.stringify(body)}`).toBe(403);
		expect(((await res.json()) as { code?: string }).code).toBe('FORBIDDEN_ROLE');
	}
	// A form-encoded post, as a crafted HTML form would send it.
	const form = await page.request.post('/api/ha/disable', { form: { confirm: 'yes' }, headers: { origin }, failOnStatusCode: false });
	expect(form.status()).toBe(403);
	// Form actions: none of the read-only pages has one, so a crafted action post changes nothing.
	for (const path of ['/pool/ha?/enable', '/pool/logs?/clear', '/whatif?/apply', '/pool/configure?/enable']) {
		const res = await page.request.post(path, { form: { anything: '1' }, headers: { origin }, failOnStatusCode: false });
		expect(res.status(), path).toBeGreaterThanOrEqual(400);
		expect(res.status(), path).toBeLessThan(500);
	}
	// From another site, refused before any role or body is looked at.
	const cross = await post('/api/ha/disable', {}, { origin: 'http://evil.example' });
	expect(cross.status()).toBe(403);
	expect(((await cross.json()) as { code?: string }).code).toBe('CROSS_SITE_REQUEST');

	const state = await poolState(address);
	expect(state.ha.enabled).toBe(false);
	expect(state.hosts.every((h) => h.live && h.condition === 'up')).toBe(true);
});

test('the same request from a pool operator gets past the role check', async ({ page, baseURL }) => {
	await login(page, 'operator');
	// HA is off, so disabling it is refused by the pool or the operation checks: but not for the role.
	const res = await page.request.post('/api/ha/disable', { data: {}, headers: { origin: baseURL ?? '' }, failOnStatusCode: false });
	expect(res.status()).not.toBe(403);
});
