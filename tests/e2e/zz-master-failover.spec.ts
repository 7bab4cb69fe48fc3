import { expect, test } from '@playwright/test';
import { control, enableHa, poolState, recordPlacement, restorePool, type Placement } from './ha-setup';
import { login, simAddress } from './helpers';

// Named to run last: the pool keeps its new master afterwards (a recovered host rejoins as a slave).

let address = '';
let placement: Placement = new Map();
let oldMaster = '';

test.beforeEach(async ({ page }) => {
	address = await simAddress(page);
	placement = await recordPlacement(address);
	// Without HA a dead master is not replaced: turn it on, with something to restart.
	await enableHa(address, { 'db-primary': { priority: 'restart', order: 0 }, 'web-1': { priority: 'restart', order: 1 } });
});

test.afterEach(async () => {
	if (oldMaster) await control(address, `hosts/${oldMaster}/recover`);
	await restorePool(address, placement);
	const state = await poolState(address);
	expect(state.ha.enabled).toBe(false);
	expect(state.hosts.every((h) => h.live)).toBe(true);
});

test('when the master dies the console carries on with the new master, without a reload', async ({ page }) => {
	const before = await poolState(address);
	const master = before.hosts.find((h) => h.master);
	if (!master) throw new Error('no master');
	oldMaster = master.name;
	const port = address.split(':')[1];

	await login(page, 'admin');
	const status = page.getByTestId('live-status');
	await expect(status).toHaveAttribute('data-connected', 'true');
	await expect(status).toContainText(`${master.address}:${port}`);
	await expect(page.locator(`[data-testid="host"][data-host-name="${oldMaster}"] [data-testid="master-badge"]`)).toHaveCount(1);
	await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'no-reload'));

	await control(address, 'master/fail');
	// The survivors elect a new master after the HA timeout; Haven's client follows it.
	let newMaster = '';
	await expect
		.poll(
			async () => {
				const s = await poolState(address);
				newMaster = s.hosts.find((h) => h.master && h.live)?.name ?? '';
				return newMaster !== '' && newMaster !== oldMaster;
			},
			{ timeout: 20_000 }
		)
		.toBe(true);
	const newAddress = (await poolState(address)).hosts.find((h) => h.name === newMaster)?.address ?? '?';

	await expect(status).toHaveAttribute('data-connected', 'true', { timeout: 30_000 });
	await expect(status).toContainText(`${newAddress}:${port}`, { timeout: 30_000 });
	await expect(page.locator(`[data-testid="host"][data-host-name="${oldMaster}"]`)).toHaveAttribute('data-state', 'failed', { timeout: 20_000 });
	await expect(page.locator(`[data-testid="host"][data-host-name="${newMaster}"] [data-testid="master-badge"]`)).toHaveCount(1, { timeout: 20_000 });
	// db-primary was on the old master and is protected: it runs on a survivor now.
	await expect(page.locator(`[data-testid="host"]:not([data-host-name="${oldMaster}"]) [data-vm-name="db-primary"]`)).toHaveCount(1, { timeout: 20_000 });
	expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('no-reload');

	// Pages keep loading (server loads go through the failed-over client).
	await page.getByRole('link', { name: 'High Availability' }).click();
	await expect(page.getByTestId('ha-enabled')).toHaveAttribute('data-enabled', 'true');
	await expect(page.locator(`[data-testid="ha-host"][data-host-name="${oldMaster}"]`)).toHaveAttribute('data-state', 'failed');
	await expect(page.locator('[data-testid="ha-events"] [data-name="POOL_MASTER_TRANSITION"], [data-testid="ha-events"] [data-name="HA_HOST_FAILED"]').first()).toBeVisible({
		timeout: 20_000
	});
	await page.getByRole('link', { name: 'Logs' }).click();
	await expect(page.getByTestId('live-status')).toHaveAttribute('data-connected', 'true');
	await page.getByRole('link', { name: 'What-if' }).click();
	await expect(page.getByTestId('whatif-source')).toHaveAttribute('data-kind', 'live');
	await page.reload();
	await expect(page.getByTestId('whatif-source')).toHaveAttribute('data-kind', 'live');
	await page.goto('/pool');
	await expect(page.getByTestId('host')).toHaveCount(3);
});
