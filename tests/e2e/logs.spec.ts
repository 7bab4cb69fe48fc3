import { expect, test } from '@playwright/test';
import { control, enableHa, recordPlacement, restorePool, type Placement } from './ha-setup';
import { login, simAddress } from './helpers';

let address = '';
let placement: Placement = new Map();

test.beforeEach(async ({ page }) => {
	address = await simAddress(page);
	placement = await recordPlacement(address);
});

test.afterEach(async () => {
	await control(address, 'clock', 'POST', { speed: 60 });
	await restorePool(address, placement);
});

test('the Logs tab shows a task with live progress, then HA messages, newest first, filtered by kind', async ({ page }) => {
	await login(page, 'helpdesk');
	await page.getByRole('link', { name: 'Logs' }).click();
	await expect(page.getByTestId('live-status')).toHaveAttribute('data-connected', 'true');
	await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'no-reload'));

	// Slow the simulated clock so enabling HA (1 simulated second per host and step) is watchable.
	await control(address, 'clock', 'POST', { speed: 3 });
	await enableHa(address, { 'app-1': { priority: 'restart', order: 0 } }, { async: true });
	const task = page.locator('[data-testid="task"][data-name*="enable_ha"]').first();
	await expect(task).toBeVisible();
	const bar = task.getByRole('progressbar');
	// Part-way: a value strictly between 0 and 100 is seen before the end.
	await expect(bar).toHaveAttribute('aria-valuenow', /^[1-9]\d?$/, { timeout: 15_000 });
	await expect(task).toHaveAttribute('data-status', 'success', { timeout: 20_000 });
	await expect(bar).toHaveAttribute('aria-valuenow', '100');
	await control(address, 'clock', 'POST', { speed: 60 });

	// A host failure with HA on raises HA_HOST_FAILED.
	await control(address, 'hosts/xcp-host-3/fail');
	const failedMessage = page.locator('[data-testid="message"][data-name="HA_HOST_FAILED"]').first();
	await expect(failedMessage).toBeVisible({ timeout: 20_000 });
	await expect(failedMessage).toContainText('xcp-host-3');
	// Newest first: timestamps never increase down the list.
	const times = await page.locator('[data-testid="message"] time').allTextContents();
	expect([...times].sort().reverse()).toEqual(times);

	await page.getByText('HA messages', { exact: true }).click();
	await expect(page.getByTestId('tasks-section')).toHaveCount(0);
	await expect(page.locator('[data-testid="messages-section"] [data-testid="message"]')).not.toHaveCount(0);
	const names = await page.locator('[data-testid="messages-section"] [data-testid="message"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
	expect(names.every((n) => n.startsWith('HA_') || n === 'MASTER_CHANGED' || n === 'POOL_MASTER_TRANSITION')).toBe(true);

	await page.getByText('Tasks', { exact: true }).click();
	await expect(page.getByTestId('messages-section')).toHaveCount(0);
	await expect(page.locator('[data-testid="task"][data-name*="enable_ha"]').first()).toBeVisible();
	await page.getByTestId('log-search').fill('no-such-task-name');
	await expect(page.getByTestId('task-list-empty')).toBeVisible();
	expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('no-reload');
});
