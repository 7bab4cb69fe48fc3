import { expect, test } from '@playwright/test';
import { control, recordPlacement, restorePool, xapiAdmin } from './ha-setup';
import { login, simAddress } from './helpers';

test('a change that fails part-way can be rolled back from the wizard', async ({ page }) => {
	test.setTimeout(90_000);
	const address = await simAddress(page);
	const placement = await recordPlacement(address);
	try {
		await login(page, 'admin');
		await page.getByRole('link', { name: 'Configure HA' }).click();
		await page.getByTestId('next').click();
		await page.getByRole('radio', { name: /iSCSI shared storage/ }).check();
		await page.getByTestId('next').click();
		await page.locator('[data-testid="vm-row"][data-vm-name="db-primary"]').getByTestId('priority-select').selectOption('high');
		await expect(page.getByTestId('ntol-max')).toHaveAttribute('data-stale', 'false');
		await page.getByTestId('next').click();

		// The heartbeat SR breaks just before enabling: the priorities go in, HA does not come on.
		await control(address, 'statefile/break');
		await page.getByRole('button', { name: 'Enable HA' }).click();
		const choices = page.getByTestId('recover-choices');
		await expect(choices).toBeVisible({ timeout: 30_000 });
		const x = await xapiAdmin(address);
		const dbPrimary = async () => {
			const vms = await x.call<Record<string, { name_label: string; ha_restart_priority: string }>>('VM.get_all_records');
			return Object.values(vms).find((v) => v.name_label === 'db-primary')?.ha_restart_priority;
		};
		try {
			expect(await dbPrimary()).toBe('restart');
			await control(address, 'statefile/repair');
			await choices.getByRole('button', { name: 'Roll back to the settings before' }).click();
			await expect.poll(dbPrimary, { timeout: 20_000 }).toBe('');
			await expect(choices).toBeHidden();
			expect(await x.call<boolean>('pool.get_ha_enabled', Object.keys(await x.call<Record<string, unknown>>('pool.get_all_records'))[0])).toBe(false);
		} finally {
			await x.logout().catch(() => undefined);
		}
	} finally {
		await control(address, 'statefile/repair').catch(() => undefined);
		await restorePool(address, placement);
	}
});
