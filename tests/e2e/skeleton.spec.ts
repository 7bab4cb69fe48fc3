import { expect, test } from '@playwright/test';
import { E2E_PASSWORD } from '../../playwright.config';
import { gotoReady, login } from './helpers';

test('a wrong password shows the pool refusal and keeps the input', async ({ page }) => {
	await gotoReady(page, '/login');
	const pool = page.getByLabel('Pool address');
	await expect(pool).toHaveValue(/^127\.0\.0\.1:\d+$/);
	await page.getByLabel('User name').fill('admin');
	await page.getByLabel('Password').fill('not-the-password');
	await page.getByRole('button', { name: 'Log in' }).click();
	await expect(page.getByTestId('login-error')).toContainText('The pool refused the user name or password');
	await expect(page.getByTestId('login-error')).toContainText('SESSION_AUTHENTICATION_FAILED');
	await expect(page.getByLabel('User name')).toHaveValue('admin');
	await expect(pool).toHaveValue(/^127\.0\.0\.1:\d+$/);
	await expect(page).toHaveURL(/\/login$/);
});

test('an unconfigured pool address is refused before any connection', async ({ page }) => {
	await gotoReady(page, '/login');
	await page.getByLabel('Pool address').fill('198.51.100.7');
	await page.getByLabel('User name').fill('admin');
	await page.getByLabel('Password').fill(E2E_PASSWORD);
	await page.getByRole('button', { name: 'Log in' }).click();
	await expect(page.getByTestId('login-error')).toContainText('not configured to manage a pool at "198.51.100.7"');
});

test('admin logs in, sees the three hosts with their VMs, and logs out', async ({ page, context }) => {
	await login(page);
	await expect(page.getByTestId('pool-name')).toHaveText('Haven demo pool');
	const hosts = page.getByTestId('host');
	await expect(hosts).toHaveCount(3);
	await expect(hosts.nth(0)).toHaveAttribute('data-host-name', 'xcp-host-1');
	await expect(hosts.nth(0).getByTestId('master-badge')).toBeVisible();
	await expect(page.getByTestId('master-badge')).toHaveCount(1);
	for (const [host, vm] of [
		['xcp-host-1', 'db-primary'],
		['xcp-host-2', 'db-replica'],
		['xcp-host-3', 'app-1']
	]) {
		await expect(page.locator(`[data-host-name="${host}"] [data-vm-name="${vm}"]`)).toHaveCount(1);
	}
	await expect(page.locator('[data-host-name="xcp-host-1"] [data-vm-name]')).toHaveCount(4);
	await expect(page.locator('[data-vm-name="db-primary"] text')).toContainText('16');
	await expect(page.getByTestId('sr')).toHaveCount(5);
	await expect(page.getByTestId('whoami')).toContainText('admin · pool-admin');
	await expect(page.getByTestId('view-only')).toHaveCount(0);

	const cookie = (await context.cookies()).find((c) => c.name === 'haven_session');
	expect(cookie?.httpOnly).toBe(true);
	expect(cookie?.sameSite).toBe('Strict');
	// Nothing but the opaque Haven id reaches the browser.
	const html = await page.content();
	expect(html).not.toContain(E2E_PASSWORD);
	expect(html).not.toMatch(/OpaqueRef:[0-9a-f-]{36}"?\s*,?\s*"?session/i);

	await page.getByRole('button', { name: 'Log out' }).click();
	await expect(page).toHaveURL(/\/login$/);
	expect((await context.cookies()).find((c) => c.name === 'haven_session')).toBeUndefined();
	await page.goto('/pool');
	await expect(page).toHaveURL(/\/login$/);
});

test('a read-only user is labelled as such', async ({ page }) => {
	await login(page, 'helpdesk');
	await expect(page.getByTestId('whoami')).toContainText('helpdesk · read-only');
	await expect(page.getByTestId('view-only')).toBeVisible();
});
