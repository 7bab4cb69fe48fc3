import { expect, test, type Page } from '@playwright/test';
import { control, enableHa, poolState, recordPlacement, restorePool, type Placement } from './ha-setup';
import { login, simAddress } from './helpers';

const markDocument = (page: Page) => page.evaluate(() => ((window as unknown as { marker: string }).marker = 'no-reload'));
const marker = (page: Page) => page.evaluate(() => (window as unknown as { marker?: string }).marker);

test('the HA tab reports HA off on the demo pool, with the maximum tolerance', async ({ page }) => {
	await login(page, 'admin');
	await page.getByRole('link', { name: 'High Availability' }).click();
	await expect(page).toHaveURL(/\/pool\/ha$/);
	await expect(page.getByTestId('ha-enabled')).toHaveAttribute('data-enabled', 'false');
	await expect(page.getByTestId('ha-enabled')).toContainText('Disabled');
	await expect(page.getByTestId('tolerance-configured')).toHaveText('0');
	// No protected VM: every live host may fail.
	await expect(page.getByTestId('tolerance-max')).toHaveText('3');
	await expect(page.getByTestId('count-protected')).toHaveText('0');
	await expect(page.getByTestId('count-unprotected')).toHaveText('13');
	await expect(page.getByTestId('ha-host')).toHaveCount(3);
	await expect(page.locator('[data-testid="ha-host"][data-statefile="off"]')).toHaveCount(3);
	await expect(page.getByTestId('overcommitted')).toHaveAttribute('data-overcommitted', 'false');
});

test.describe('with HA enabled', () => {
	let address = '';
	let placement: Placement = new Map();

	test.beforeEach(async ({ page }) => {
		address = await simAddress(page);
		placement = await recordPlacement(address);
		await enableHa(address, {
			'db-primary': { priority: 'restart', order: 0 },
			'app-1': { priority: 'restart', order: 0 },
			'app-2': { priority: 'restart', order: 1 },
			ldap: { priority: 'best-effort' }
		});
	});

	test.afterEach(async () => {
		await restorePool(address, placement);
		const state = await poolState(address);
		expect(state.ha.enabled).toBe(false);
		expect(state.hosts.every((h) => h.live)).toBe(true);
	});

	test('the HA tab shows it, then a failed host and its VMs restarted elsewhere, without a reload', async ({ page }) => {
		await login(page, 'operator');
		await page.goto('/pool/ha');
		await expect(page.getByTestId('ha-enabled')).toHaveAttribute('data-enabled', 'true');
		await expect(page.getByTestId('heartbeat-sr')).toContainText('iSCSI shared storage');
		await expect(page.getByTestId('count-protected')).toHaveText('3');
		await expect(page.getByTestId('count-best-effort')).toHaveText('1');
		await expect(page.getByTestId('count-unprotected')).toHaveText('9');
		await expect(page.locator('[data-testid="ha-host"][data-statefile="ok"][data-heartbeat="ok"]')).toHaveCount(3);
		await expect(page.getByTestId('tolerance-max')).not.toHaveText('…');

		await markDocument(page);
		await control(address, 'hosts/xcp-host-3/fail');
		const host3 = page.locator('[data-testid="ha-host"][data-host-name="xcp-host-3"]');
		await expect(host3).toHaveAttribute('data-state', 'failed', { timeout: 20_000 });
		await expect(host3).toHaveAttribute('data-statefile', 'lost');
		await expect(page.locator('[data-testid="ha-events"] [data-name="HA_HOST_FAILED"]').first()).toBeVisible({ timeout: 20_000 });
		// The maximum follows the change: recomputed by the planner for two surviving hosts.
		await expect(page.getByTestId('tolerance-recomputing')).toHaveCount(0, { timeout: 20_000 });
		await expect(page.getByTestId('tolerance-max')).toHaveText(/^[0-2]$/);

		// The pool view, reached without a reload, has app-1 and app-2 running on a survivor.
		await page.getByRole('link', { name: 'Pool', exact: true }).click();
		await expect(page.locator('[data-testid="host"][data-host-name="xcp-host-3"]')).toHaveAttribute('data-state', 'failed');
		for (const vm of ['app-1', 'app-2']) {
			await expect(page.locator(`[data-testid="host"]:not([data-host-name="xcp-host-3"]) [data-vm-name="${vm}"]`)).toHaveCount(1, { timeout: 20_000 });
		}
		// ldap is best-effort: restarted too when memory allows (it does here).
		await expect(page.locator('[data-testid="host"]:not([data-host-name="xcp-host-3"]) [data-vm-name="ldap"]')).toHaveCount(1, { timeout: 20_000 });
		expect(await marker(page)).toBe('no-reload');
	});
});
