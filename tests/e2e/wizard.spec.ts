import { expect, test, type Page } from '@playwright/test';
import { E2E_PASSWORD } from '../../playwright.config';
import { simAddress, simControl } from './helpers';

/**
 * The Configure HA wizard on the embedded `small` pool: the whole procedure with the mouse
 * (refused SRs, a non-agile VM, the maximum following edits, overcommitment, enable with
 * progress), then a reconfiguration and turning HA off with the keyboard only. The pool is
 * put back as found (HA off, no priorities) whatever happens.
 */

let address = '';

/** XAPI JSON-RPC straight to the simulated pool, as root: for checking and tidying up. */
async function xapi<T = unknown>(method: string, ...params: unknown[]): Promise<T> {
	const call = async (m: string, p: unknown[]) => {
		const res = await fetch(`http://${address}/jsonrpc`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: m, params: p })
		});
		const body = (await res.json()) as { result?: unknown; error?: { message: string; data?: unknown[] } };
		if (body.error) throw new Error(`${m}: ${body.error.message} ${JSON.stringify(body.error.data ?? [])}`);
		return body.result;
	};
	const session = (await call('session.login_with_password', ['root', E2E_PASSWORD, '1.0', 'haven-e2e'])) as string;
	try {
		return (await call(method, [session, ...params])) as T;
	} finally {
		await call('session.logout', [session]).catch(() => undefined);
	}
}

interface PoolRow {
	ha_enabled: boolean;
	ha_configuration: Record<string, string>;
	ha_host_failures_to_tolerate: number;
}
interface VmRow {
	name_label: string;
	ha_restart_priority: string;
	order: number;
	start_delay: number;
	is_a_template: boolean;
	is_control_domain: boolean;
}

async function poolState() {
	const pools = await xapi<Record<string, PoolRow>>('pool.get_all_records');
	const [poolRef, pool] = Object.entries(pools)[0] ?? [];
	const vms = await xapi<Record<string, VmRow>>('VM.get_all_records');
	const byName = Object.fromEntries(Object.values(vms).map((v) => [v.name_label, v]));
	return { poolRef: poolRef ?? '', pool: pool as PoolRow, vms, byName };
}

/** HA off, every VM "do not restart" with order and delay 0, tolerance 0: how `small` starts. */
async function restorePool(): Promise<void> {
	if (!address) return;
	await simControl(address, 'clock', { speed: 60 }).catch(() => undefined);
	const { poolRef, pool, vms } = await poolState();
	if (pool.ha_enabled) await xapi('pool.disable_ha');
	for (const [ref, vm] of Object.entries(vms)) {
		if (vm.is_a_template || vm.is_control_domain) continue;
		if (vm.ha_restart_priority !== '') await xapi('VM.set_ha_restart_priority', ref, '');
		if (vm.order !== 0) await xapi('VM.set_order', ref, 0);
		if (vm.start_delay !== 0) await xapi('VM.set_start_delay', ref, 0);
	}
	if (pool.ha_host_failures_to_tolerate !== 0) await xapi('pool.set_ha_host_failures_to_tolerate', poolRef, 0);
}

/**
 * Logs in after the login page has hydrated: the shared helper fills the form at once, and a
 * fill landing before hydration is sometimes wiped (the user name comes back empty).
 */
async function login(page: Page, user: string): Promise<void> {
	await page.goto('/login');
	await page.waitForLoadState('networkidle');
	await page.getByLabel('User name').fill(user);
	await page.getByLabel('Password').fill(E2E_PASSWORD);
	await expect(page.getByLabel('User name')).toHaveValue(user);
	await page.getByRole('button', { name: 'Log in' }).click();
	await expect(page).toHaveURL(/\/pool$/, { timeout: 30_000 });
}

/**
 * What the first test leaves behind, made directly over XAPI when it did not run (the keyboard
 * test can run alone): HA on, tolerating 1, the databases High, mail Medium, the apps Low.
 */
async function ensureHaOn(): Promise<void> {
	const { poolRef, pool, vms } = await poolState();
	if (pool.ha_enabled) return;
	const wanted: Record<string, [string, number]> = {
		'db-primary': ['restart', 0],
		'db-replica': ['restart', 0],
		mail: ['restart', 1],
		'app-1': ['restart', 2],
		'app-2': ['restart', 2]
	};
	for (const [ref, vm] of Object.entries(vms)) {
		const w = wanted[vm.name_label];
		if (!w) continue;
		await xapi('VM.set_ha_restart_priority', ref, w[0]);
		await xapi('VM.set_order', ref, w[1]);
	}
	await xapi('pool.set_ha_host_failures_to_tolerate', poolRef, 1);
	const srs = await xapi<Record<string, { name_label: string }>>('SR.get_all_records');
	const iscsi = Object.entries(srs).find(([, sr]) => sr.name_label === 'iSCSI shared storage')?.[0];
	await xapi('pool.enable_ha', [iscsi], {});
}

const row = (page: Page, name: string) => page.locator(`[data-testid="vm-row"][data-vm-name="${name}"]`);
const maxFigure = (page: Page) => page.getByTestId('ntol-max');

/** Waits for the planner's answer (the maximum no longer stale) and returns it. */
async function settledMax(page: Page): Promise<string> {
	await expect(maxFigure(page)).toHaveAttribute('data-stale', 'false');
	return (await maxFigure(page).textContent())?.trim() ?? '';
}

/** Records whether the maximum was ever shown stale (the planner answers in milliseconds). */
async function watchStale(page: Page): Promise<void> {
	await page.evaluate(() => {
		const w = window as unknown as { sawStale: boolean; staleObserver?: MutationObserver };
		w.sawStale = false;
		w.staleObserver?.disconnect();
		const target = document.querySelector('[data-testid="capacity"]');
		if (!target) throw new Error('no capacity panel');
		w.staleObserver = new MutationObserver(() => {
			if (target.getAttribute('aria-busy') === 'true' && document.querySelector('[data-testid="ntol-max"]')?.getAttribute('data-stale') === 'true') w.sawStale = true;
		});
		w.staleObserver.observe(target, { attributes: true, subtree: true, childList: true });
	});
}
const sawStale = (page: Page) => page.evaluate(() => (window as unknown as { sawStale: boolean }).sawStale);

test.describe.serial('Configure HA wizard', () => {
	test.beforeAll(async ({ browser }) => {
		const page = await browser.newPage();
		address = await simAddress(page);
		await page.close();
		await restorePool();
	});

	test.afterAll(async () => {
		await restorePool();
	});

	test('walks the whole procedure and enables HA as pool tasks, with progress', async ({ page }) => {
		await page.setViewportSize({ width: 1400, height: 1000 });
		await login(page, 'admin');
		await page.getByRole('link', { name: 'Configure HA' }).click();
		await expect(page).toHaveURL(/\/pool\/configure$/);

		// 1. Prerequisites
		await expect(page.getByRole('heading', { level: 2, name: 'Before you start' })).toBeVisible();
		for (const id of ['licence', 'heartbeat-sr', 'hosts-live']) await expect(page.getByTestId(`prerequisite-${id}`)).toHaveAttribute('data-ok', 'true');
		await page.getByTestId('next').click();

		// 2. Heartbeat SR: the refused ones are disabled and say why
		await expect(page.getByRole('heading', { level: 2, name: 'Heartbeat SR' })).toBeFocused();
		const iso = page.locator('[data-testid="sr-option"][data-sr-name="ISO library"]');
		await expect(iso.getByRole('radio')).toBeDisabled();
		await expect(iso).toContainText("The SR backend does not support the operation (check the SR's allowed operations)");
		const local = page.locator('[data-testid="sr-option"][data-sr-name="Local storage on xcp-host-1"]');
		await expect(local.getByRole('radio')).toBeDisabled();
		await expect(local).toContainText('Not shared');
		await expect(local).toContainText('Not attached on xcp-host-2, xcp-host-3');
		const iscsi = page.getByRole('radio', { name: /iSCSI shared storage/ });
		await expect(iscsi).toBeEnabled();
		await iscsi.check();
		await page.getByLabel('HA timeout (seconds)').fill('5');
		await expect(page.getByTestId('next')).toBeDisabled();
		await page.getByLabel('HA timeout (seconds)').fill('30');
		await page.getByTestId('next').click();

		// 3. Priorities: non-agile VMs cannot be protected and say why
		await expect(page.getByRole('heading', { level: 2, name: /Restart priorities/ })).toBeFocused();
		const buildCache = row(page, 'build-cache');
		await expect(buildCache.getByTestId('not-agile')).toContainText('A disk is on storage that not every host can reach');
		await expect(buildCache.getByTestId('not-agile')).toContainText('HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED');
		for (const level of ['high', 'medium', 'low']) await expect(buildCache.locator(`option[value="${level}"]`)).toBeDisabled();
		await expect(buildCache.locator('option[value="best-effort"]')).toBeEnabled();
		await expect(row(page, 'backup-agent').getByTestId('not-agile')).toContainText('Backup network (host 1 only)');

		// The maximum follows every edit (computed in the worker; stale meanwhile).
		expect(await settledMax(page)).toBe('3');
		await expect(page.getByTestId('ntol-input')).toHaveValue('2');
		await watchStale(page);
		await row(page, 'db-primary').getByTestId('priority-select').selectOption('high');
		expect(await settledMax(page)).toBe('2');
		expect(await sawStale(page)).toBe(true);
		await row(page, 'db-replica').getByTestId('priority-select').selectOption('high');
		await row(page, 'mail').getByTestId('priority-select').selectOption('medium');
		await row(page, 'app-1').getByTestId('priority-select').selectOption('low');
		await row(page, 'app-2').getByTestId('priority-select').selectOption('low');
		expect(await settledMax(page)).toBe('1');
		// Untouched, the tolerance follows the maximum down.
		await expect(page.getByTestId('ntol-input')).toHaveValue('1');

		// Bulk edit by selection; the non-agile VM in the selection is left alone.
		for (const name of ['web-1', 'web-2', 'build-cache']) await row(page, name).getByRole('checkbox').check();
		await page.getByTestId('bulk-level').selectOption('medium');
		await page.getByRole('button', { name: 'Set priority' }).click();
		await expect(page.getByTestId('bulk')).toContainText('left alone (cannot be protected): build-cache');
		await expect(row(page, 'web-1')).toHaveAttribute('data-level', 'medium');
		await expect(row(page, 'web-2')).toHaveAttribute('data-level', 'medium');
		await expect(row(page, 'build-cache')).toHaveAttribute('data-level', 'none');
		await row(page, 'web-2').getByLabel('Start delay of web-2 in seconds').fill('15');
		await row(page, 'web-2').getByLabel('Start delay of web-2 in seconds').press('Tab');
		expect(await settledMax(page)).toBe('1');

		// Asking for more than the maximum: overcommitment explained with the planner's fixes; Next waits.
		await page.getByTestId('ntol-input').fill('2');
		await expect(page.getByTestId('overcommit')).toContainText('Overcommitted');
		await expect(page.getByTestId('fixes')).toBeVisible();
		await expect(page.getByTestId('next')).toBeDisabled();
		await page.getByTestId('ntol-input').fill('1');
		await expect(page.getByTestId('overcommit')).toHaveCount(0);
		await expect(page.getByTestId('next')).toBeEnabled();
		await page.getByTestId('next').click();

		// 4. Summary of every choice, and the calls in order
		await expect(page.getByRole('heading', { level: 2, name: 'Summary' })).toBeFocused();
		await expect(page.getByTestId('summary-sr')).toContainText('iSCSI shared storage');
		await expect(page.getByTestId('summary-ntol')).toContainText('1');
		await expect(page.getByTestId('summary-timeout')).toHaveText('30 s');
		const planned = page.getByTestId('summary-steps').locator('li');
		await expect(planned.first()).toHaveText('Host failures to tolerate 0 → 1');
		await expect(planned.last()).toHaveText('Enable HA with the heartbeat on iSCSI shared storage (timeout 30 s)');
		await expect(page.getByTestId('summary')).toBeVisible();

		// 5. Finish: slow the pool's clock so the enable task's progress can be watched.
		await simControl(address, 'clock', { speed: 4 });
		try {
			await page.getByTestId('finish').click();
			await expect(page.getByRole('heading', { level: 2, name: 'Apply' })).toBeFocused();
			const enableStep = page.locator('[data-testid="job-step"]').filter({ hasText: 'pool.enable_ha' });
			await expect(enableStep).toHaveAttribute('data-status', 'running', { timeout: 20_000 });
			await expect
				.poll(async () => Number(await enableStep.getByTestId('step-progress').getAttribute('value')), { timeout: 20_000 })
				.toBeGreaterThan(0);
		} finally {
			await simControl(address, 'clock', { speed: 60 });
		}
		await expect(page.getByTestId('job')).toHaveAttribute('data-state', 'succeeded', { timeout: 30_000 });
		await expect(page.locator('[data-testid="job-step"][data-status="applied"]')).toHaveCount(await page.getByTestId('job-step').count());

		// The enable task stays in the pool's task list, so the Logs tab shows how it ended.
		await page.getByTestId('wizard-step').getByRole('link', { name: 'Logs' }).click();
		await expect(page.locator('[data-testid="task"][data-name*="enable_ha"]').first()).toHaveAttribute('data-status', 'success');

		// The pool itself has it, in the safe order's end state.
		const { pool, byName } = await poolState();
		expect(pool.ha_enabled).toBe(true);
		expect(pool.ha_host_failures_to_tolerate).toBe(1);
		expect(pool.ha_configuration['timeout']).toBe('30');
		expect(byName['db-primary']).toMatchObject({ ha_restart_priority: 'restart', order: 0 });
		expect(byName['mail']).toMatchObject({ ha_restart_priority: 'restart', order: 1 });
		expect(byName['app-1']).toMatchObject({ ha_restart_priority: 'restart', order: 2 });
		expect(byName['web-2']).toMatchObject({ ha_restart_priority: 'restart', order: 1, start_delay: 15 });
		expect(byName['build-cache']?.ha_restart_priority).toBe('');
	});

	test('with the keyboard only: change settings (diff, safe order) and turn HA off with confirmation', async ({ page }) => {
		await ensureHaOn();
		await page.setViewportSize({ width: 1400, height: 1000 });
		await login(page, 'operator');
		await page.goto('/pool/configure');
		await expect(page.getByTestId('wizard-ha-state')).toHaveText('on');

		// Tab to "Change settings" and press Enter.
		const changeSettings = page.getByTestId('change-settings');
		for (let i = 0; i < 30 && !(await changeSettings.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
		await expect(changeSettings).toBeFocused();
		await page.keyboard.press('Enter');
		await expect(page.getByRole('heading', { level: 2, name: /Restart priorities/ })).toBeFocused();
		expect(await settledMax(page)).toBe('1');

		// Tab into app-2's priority and lower it with the arrow keys (Low → Best effort).
		const app2 = row(page, 'app-2').getByTestId('priority-select');
		for (let i = 0; i < 80 && !(await app2.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
		await expect(app2).toBeFocused();
		await page.keyboard.press('ArrowDown');
		await expect(row(page, 'app-2')).toHaveAttribute('data-level', 'best-effort');
		// Space toggles a selection checkbox.
		await page.keyboard.press('Shift+Tab');
		await expect(row(page, 'app-2').getByRole('checkbox')).toBeFocused();
		await page.keyboard.press('Space');
		await expect(row(page, 'app-2').getByRole('checkbox')).toBeChecked();
		expect(await settledMax(page)).toBe('1');

		const next = page.getByTestId('next');
		for (let i = 0; i < 120 && !(await next.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		await expect(page.getByRole('heading', { level: 2, name: 'Summary' })).toBeFocused();
		await expect(page.getByTestId('summary-diff')).toContainText('app-2');
		await expect(page.getByTestId('summary-diff')).toContainText('Best effort');
		// Meanwhile someone else changes the pool: the server refuses with the differences.
		const ldapRef = Object.entries((await poolState()).vms).find(([, v]) => v.name_label === 'ldap')?.[0];
		await xapi('VM.set_ha_restart_priority', ldapRef, 'best-effort');
		const finish = page.getByTestId('finish');
		for (let i = 0; i < 40 && !(await finish.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
		await expect(finish).toHaveText('Apply changes');
		await page.keyboard.press('Enter');
		const refusal = page.getByTestId('refusal');
		await expect(refusal).toHaveAttribute('data-code', 'POOL_CHANGED');
		await expect(refusal).toBeFocused();
		await expect(refusal.locator('tr').filter({ hasText: 'ldap' })).toContainText('Best effort');
		expect((await poolState()).byName['app-2']?.ha_restart_priority).toBe('restart');
		await page.keyboard.press('Tab');
		await expect(page.getByRole('button', { name: 'Apply my settings anyway' })).toBeFocused();
		await page.keyboard.press('Enter');
		await expect(page.getByTestId('job')).toHaveAttribute('data-state', 'succeeded', { timeout: 30_000 });
		// Only what this user changed is applied: the other change (ldap) stays.
		const after = await poolState();
		expect(after.byName['app-2']?.ha_restart_priority).toBe('best-effort');
		expect(after.byName['ldap']?.ha_restart_priority).toBe('best-effort');

		// Open again, Turn off HA: Escape cancels the confirmation, Enter on the confirm button applies.
		const again = page.getByRole('button', { name: 'Open the wizard again' });
		for (let i = 0; i < 80 && !(await again.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		const off = page.getByTestId('turn-off');
		await expect(off).toBeVisible();
		for (let i = 0; i < 30 && !(await off.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
		await page.keyboard.press('Enter');
		const dialog = page.getByTestId('confirm-dialog');
		await expect(dialog).toBeVisible();
		await page.keyboard.press('Escape');
		await expect(dialog).toBeHidden();
		expect((await poolState()).pool.ha_enabled).toBe(true);
		await off.focus();
		await page.keyboard.press('Enter');
		await expect(dialog).toBeVisible();
		const confirm = dialog.getByRole('button', { name: 'Turn off HA' });
		for (let i = 0; i < 5 && !(await confirm.evaluate((el) => el === document.activeElement)); i++) await page.keyboard.press('Tab');
		await expect(confirm).toBeFocused();
		await page.keyboard.press('Enter');
		await expect(page.getByTestId('job')).toHaveAttribute('data-state', 'succeeded', { timeout: 30_000 });
		await expect(page.getByTestId('job')).toContainText('Turn off HA');
		expect((await poolState()).pool.ha_enabled).toBe(false);
	});

	test('a read-only user sees the wizard is not for them, and a crafted request is refused', async ({ page }) => {
		await login(page, 'helpdesk');
		await page.goto('/pool/configure');
		await expect(page.getByTestId('view-only-note')).toContainText('read-only');
		await expect(page.getByTestId('next')).toHaveCount(0);
		const base = new URL(page.url()).origin;
		const res = await page.request.post('/api/ha/disable', { data: { confirm: true }, headers: { origin: base } });
		expect(res.status()).toBe(403);
		expect(((await res.json()) as { code: string }).code).toBe('FORBIDDEN_ROLE');
	});
});
