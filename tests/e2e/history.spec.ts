import { expect, test } from '@playwright/test';
import { control, enableHa, poolState, recordPlacement, restorePool } from './ha-setup';
import { login, simAddress } from './helpers';

test('a host failure is recorded as an incident with its timeline, readable by helpdesk', async ({ page }) => {
	test.setTimeout(120_000);
	const address = await simAddress(page);
	const placement = await recordPlacement(address);
	try {
		await enableHa(address, { 'db-replica': { priority: 'restart', order: 0 }, 'web-2': { priority: 'restart', order: 1 } });
		await control(address, 'hosts/xcp-host-2/fail');
		await expect.poll(async () => (await poolState(address)).hosts.find((h) => h.name === 'xcp-host-2')?.live, { timeout: 30_000 }).toBe(false);
		await control(address, 'settle');

		await login(page, 'helpdesk');
		await page.getByRole('link', { name: 'History' }).click();
		await expect(page).toHaveURL(/\/history$/);
		// The collector writes as events arrive; the page reads the database on each load.
		await expect(async () => {
			await page.reload();
			await expect(page.getByTestId('incident-table')).toContainText('xcp-host-2', { timeout: 1000 });
		}).toPass({ timeout: 30_000 });
		await expect(page.getByTestId('trend-chart')).toBeVisible();

		await expect(async () => {
			await page.reload();
			await page.getByTestId('incident-table').getByRole('link').first().click();
			await expect(page.getByTestId('incident-title')).toHaveText('xcp-host-2 failed', { timeout: 1000 });
			await expect(page.locator('[data-testid="timeline-vm"][data-vm-name="web-2"][data-restarted="true"]')).toHaveCount(1, { timeout: 1000 });
		}).toPass({ timeout: 30_000 });
		await expect(page.locator('[data-testid="timeline-vm"][data-vm-name="db-replica"][data-restarted="true"]')).toHaveCount(1);
		await expect(page.locator('[data-testid="timeline-marker"][data-kind="host_declared_dead"]')).toHaveCount(1);
		// Restarted in order: the order-0 group's bar ends before the order-1 group's.
		const end = async (name: string) => {
			const box = await page.locator(`[data-testid="timeline-vm"][data-vm-name="${name}"] rect`).boundingBox();
			return (box?.x ?? 0) + (box?.width ?? 0);
		};
		expect(await end('db-replica')).toBeLessThanOrEqual(await end('web-2'));
		await page.screenshot({ path: 'tests/artifacts/history-incident.png', fullPage: true });
	} finally {
		await restorePool(address, placement);
	}
});

test('the audit log filters and exports as CSV', async ({ page }) => {
	await login(page, 'helpdesk');
	await page.goto('/history/audit?outcome=nonsense');
	await expect(page.locator('body')).toContainText('outcome must be one of');
	await page.goto('/history/audit');
	await expect(page.getByRole('heading', { name: 'Audit log' })).toBeVisible();
	const download = page.waitForEvent('download');
	await page.getByTestId('audit-csv').click();
	const file = await download;
	expect(file.suggestedFilename()).toBe('haven-audit-embedded.csv');
	const stream = await file.createReadStream();
	let text = '';
	for await (const chunk of stream) text += chunk.toString();
	expect(text.split(/\r?\n/)[0]).toBe('id,started_at,finished_at,user,role,pool,action,outcome,request,response,error');
});
