import { expect, test } from '@playwright/test';
import { recordPlacement, restorePool } from './ha-setup';
import { login, simAddress, simControl } from './helpers';

test('a host failure shows on the pool view without a reload', async ({ page }) => {
	const address = await simAddress(page);
	// A host that was powered off comes back with its VMs halted: put them back after.
	const placement = await recordPlacement(address);
	await login(page, 'helpdesk');
	await expect(page.getByTestId('live-status')).toHaveAttribute('data-connected', 'true');
	const host3 = page.locator('[data-testid="host"][data-host-name="xcp-host-3"]');
	await expect(host3).toHaveAttribute('data-state', 'live');
	// Marks the document: a reload would lose it.
	await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'no-reload'));
	try {
		await simControl(address, 'hosts/xcp-host-3/fail');
		await expect(host3).toHaveAttribute('data-state', 'failed', { timeout: 20_000 });
		expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('no-reload');
	} finally {
		await simControl(address, 'hosts/xcp-host-3/recover');
	}
	await expect(host3).toHaveAttribute('data-state', 'live', { timeout: 20_000 });
	await restorePool(address, placement);
});

test('a page left open learns when its session ends elsewhere', async ({ page, context }) => {
	await login(page, 'helpdesk');
	await expect(page.getByTestId('live-status')).toHaveAttribute('data-connected', 'true');
	const other = await context.newPage();
	await other.goto('/pool');
	await other.getByRole('button', { name: 'Log out' }).click();
	await expect(other).toHaveURL(/\/login$/);
	await expect(page.getByTestId('session-ended')).toBeVisible({ timeout: 15_000 });
	await page.getByRole('link', { name: 'Log in again' }).click();
	await expect(page).toHaveURL(/\/login$/);
});
