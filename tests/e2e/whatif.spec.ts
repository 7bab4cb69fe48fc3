import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { enableHa, recordPlacement, restorePool, xapiAdmin, type Placement } from './ha-setup';
import { login, simAddress } from './helpers';

let address = '';
let placement: Placement = new Map();

test.beforeAll(async ({ browser }) => {
	const page = await browser.newPage();
	address = await simAddress(page);
	await page.close();
	placement = await recordPlacement(address);
});

test.afterEach(async () => {
	await restorePool(address, placement);
});

const hostButton = (page: import('@playwright/test').Page, name: string) => page.getByRole('button', { name: `Fail ${name} in the what-if` });

test('hosts picked on the topology (mouse and keyboard) show placements, losses, tolerance and the timeline; the plan exports as JSON and CSV', async ({ page }) => {
	await enableHa(address, {
		'db-primary': { priority: 'restart', order: 0 },
		'db-replica': { priority: 'restart', order: 0 },
		'app-1': { priority: 'restart', order: 1 },
		'app-2': { priority: 'restart', order: 2 },
		ldap: { priority: 'best-effort' }
	});
	await login(page, 'operator');
	await page.getByRole('link', { name: 'What-if' }).click();
	await expect(page.getByTestId('whatif-source')).toHaveAttribute('data-kind', 'live');
	await expect(page.getByTestId('current-tolerance')).toContainText(/\d/);

	// Mouse: fail xcp-host-3; its protected VMs restart elsewhere, ldap (best-effort) too.
	await hostButton(page, 'xcp-host-3').click();
	await expect(hostButton(page, 'xcp-host-3')).toHaveAttribute('aria-pressed', 'true');
	const results = page.getByTestId('whatif-results');
	await expect(results).toHaveAttribute('data-stale', 'false');
	for (const vm of ['app-1', 'app-2']) {
		const row = page.locator(`[data-testid="placement"][data-vm-name="${vm}"]`);
		await expect(row).toHaveAttribute('data-fate', 'restarted');
		await expect(row).not.toHaveAttribute('data-to', 'xcp-host-3');
	}
	await expect(page.getByTestId('remaining-tolerance')).toContainText(/\d/);
	await expect(page.getByTestId('headroom-host')).toHaveCount(2);
	await expect(page.getByTestId('gantt-bar').filter({ hasText: 'app-1' })).toHaveCount(1);
	await expect(page.getByTestId('gantt-group')).not.toHaveCount(0);

	// Boot time is the planner's assumption to change: a longer boot ends the restarts later; a
	// bad value is named and changes nothing.
	const finished = page.getByTestId('timeline-finished');
	const before = Number(await finished.getAttribute('data-seconds'));
	await page.getByTestId('boot-seconds').fill('0');
	await page.getByTestId('boot-seconds').press('Enter');
	await expect(page.getByRole('alert').filter({ hasText: 'Boot time must be a whole number' })).toContainText('"0"');
	await expect(finished).toHaveAttribute('data-seconds', String(before));
	await page.getByTestId('boot-seconds').fill('90');
	await page.getByTestId('boot-seconds').press('Enter');
	await expect(page.getByRole('alert').filter({ hasText: 'Boot time' })).toHaveCount(0);
	await expect.poll(async () => Number(await finished.getAttribute('data-seconds'))).toBeGreaterThan(before);

	// Keyboard: Tab from host 1 to host 2, Enter adds it, Space removes it again.
	await hostButton(page, 'xcp-host-1').focus();
	await page.keyboard.press('Tab');
	await expect(hostButton(page, 'xcp-host-2')).toBeFocused();
	await page.keyboard.press('Enter');
	await expect(hostButton(page, 'xcp-host-2')).toHaveAttribute('aria-pressed', 'true');
	await expect(page.getByTestId('selection')).toContainText('xcp-host-3, xcp-host-2');
	await expect(results).toHaveAttribute('data-stale', 'false');
	await page.keyboard.press(' ');
	await expect(hostButton(page, 'xcp-host-2')).toHaveAttribute('aria-pressed', 'false');

	// Worst case: the smallest breaking set, which strands protected VMs.
	await page.getByTestId('worst-case').click();
	const breaking = (await page.getByTestId('breaking-set').locator('strong').getAttribute('data-hosts'))?.split(' + ') ?? [];
	expect(breaking.length).toBeGreaterThan(0);
	for (const host of breaking) await expect(hostButton(page, host)).toHaveAttribute('aria-pressed', 'true');
	await expect(results).toHaveAttribute('data-stale', 'false');
	await expect(page.getByTestId('unplaced-vm').first()).toBeVisible();
	const unplaced = await page.getByTestId('unplaced-vm').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-vm-name')));

	// JSON export: the full plan with names.
	const [jsonDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
	expect(jsonDownload.suggestedFilename()).toMatch(/^haven-whatif-Haven-demo-pool-.*\.json$/);
	const plan = JSON.parse(await readFile((await jsonDownload.path()) as string, 'utf8')) as {
		format: string;
		failedHosts: { name: string }[];
		plan: { placements: Record<string, string>; unplaced: { vm: string; reason: string }[] };
		vms: { vm: string; fate: string }[];
	};
	expect(plan.format).toBe('haven-whatif-plan');
	expect(plan.failedHosts.map((h) => h.name).sort()).toEqual([...breaking].sort());
	expect(plan.plan.unplaced.length).toBe(unplaced.length);
	expect(plan.vms.filter((v) => v.fate === 'unplaced').map((v) => v.vm).sort()).toEqual([...unplaced].sort());

	// CSV export: one row per VM in the JSON, unplaced ones with their reason.
	const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
	expect(csvDownload.suggestedFilename()).toMatch(/\.csv$/);
	const lines = (await readFile((await csvDownload.path()) as string, 'utf8')).trim().split('\r\n');
	expect(lines[0]).toBe('vm,from_host,to_host,unplaced_reason,priority,group,start_s,end_s');
	expect(lines).toHaveLength(plan.vms.length + 1);
	for (const vm of unplaced) expect(lines.find((l) => l.startsWith(`${vm},`))).toMatch(/,,HOST_NOT_ENOUGH_FREE_MEMORY,/);

	// The what-if stays on its snapshot, but says when the live pool has moved on.
	await expect(page.getByTestId('pool-moved-on')).toHaveCount(0);
	const x = await xapiAdmin(address);
	try {
		const vms = await x.call<Record<string, { name_label: string }>>('VM.get_all_records');
		const testVm = Object.entries(vms).find(([, vm]) => vm.name_label === 'test-vm')?.[0];
		await x.call('VM.set_ha_restart_priority', testVm, 'best-effort');
	} finally {
		await x.logout();
	}
	await expect(page.getByTestId('pool-moved-on')).toBeVisible();
	await page.getByRole('button', { name: 'Load it again' }).click();
	await expect(page.getByTestId('pool-moved-on')).toHaveCount(0);
	await expect(page.getByTestId('selection')).toContainText('No host failed yet.');
});

test('an uploaded snapshot file is planned on; a malformed one is refused with the paths at fault', async ({ page }) => {
	await login(page, 'helpdesk');
	const snapshot = (await (await page.request.get('/api/pool/snapshot')).json()) as Record<string, Record<string, Record<string, unknown>>>;
	await page.goto('/whatif');
	await expect(page.getByTestId('whatif-source')).toHaveAttribute('data-kind', 'live');

	const broken = structuredClone(snapshot);
	const [hostRef, host] = Object.entries(broken['host'] ?? {})[0] ?? [];
	if (!hostRef || !host) throw new Error('no host in the snapshot');
	host['memory_overhead'] = 'lots';
	await page.getByTestId('snapshot-file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(broken)) });
	const issues = page.getByTestId('snapshot-issues');
	await expect(issues).toContainText('refused');
	await expect(issues).toContainText(hostRef);
	await expect(issues).toContainText('memory_overhead');
	await expect(page.getByTestId('whatif-source')).toHaveCount(0);

	await page.getByTestId('snapshot-file').setInputFiles({ name: 'not-json.json', mimeType: 'application/json', buffer: Buffer.from('{ nope') });
	await expect(issues).toContainText('not valid JSON');

	// A valid file where host 3 is renamed: the page plans on the file, not on the live pool.
	const renamed = structuredClone(snapshot);
	for (const h of Object.values(renamed['host'] ?? {})) if (h['name_label'] === 'xcp-host-3') h['name_label'] = 'offline-host-3';
	await page.getByTestId('snapshot-file').setInputFiles({ name: 'pool-snapshot.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(renamed)) });
	await expect(page.getByTestId('whatif-source')).toHaveAttribute('data-kind', 'file');
	await expect(page.getByTestId('whatif-source')).toContainText('pool-snapshot.json');
	await expect(page.getByTestId('snapshot-issues')).toHaveCount(0);
	await hostButton(page, 'offline-host-3').click();
	await expect(page.getByTestId('whatif-results')).toHaveAttribute('data-stale', 'false');
	// Nothing is protected in the demo pool: host 3's VMs are lost, none restarted.
	await expect(page.locator('[data-testid="lost-vm"][data-vm-name="app-1"]')).toHaveCount(1);
});
