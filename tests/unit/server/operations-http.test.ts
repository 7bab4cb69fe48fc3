/**
 * The HA operations allow-list over real HTTP: a built Haven in front of a simulated
 * `mixed-storage` pool (every heartbeat-SR refusal, a non-agile VM of each cause, two VMs
 * already protected). Role checks, malformed input, checks before the first call, the safe
 * order, a failure mid-way, and the audit log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDbFromEnv, queryAudit } from '../../../src/lib/server/history';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim';
import type { JobView } from '../../../src/lib/ha/jobs';
import { postForm, sessionCookie, startHaven, type RunningHaven } from '../helpers/haven-server';

const PASSWORD = 'operations-http-secret-4d1';
let sim: RunningSimulatedPool;
let haven: RunningHaven;
let dataDir: string;
const cookies: Record<string, string> = {};

async function login(user: string): Promise<string> {
	const res = await postForm(haven.url, '/login', { pool: sim.address, user, password: PASSWORD });
	const cookie = sessionCookie(res)?.split(';')[0];
	if (!cookie) throw new Error(`login ${user} failed: ${res.status}`);
	return cookie;
}

function post(path: string, body: unknown, opts: { user?: string; headers?: Record<string, string>; raw?: string } = {}): Promise<Response> {
	return fetch(`${haven.url}${path}`, {
		method: 'POST',
		headers: { origin: haven.url, 'content-type': 'application/json', cookie: cookies[opts.user ?? 'admin'] ?? '', ...opts.headers },
		body: opts.raw ?? JSON.stringify(body)
	});
}

async function waitJob(id: string, user = 'admin'): Promise<JobView> {
	for (const deadline = Date.now() + 45_000; Date.now() < deadline; ) {
		const res = await fetch(`${haven.url}/api/ha/jobs/${id}`, { headers: { cookie: cookies[user] ?? '' } });
		expect(res.status).toBe(200);
		const { job } = (await res.json()) as { job: JobView };
		if (job.state !== 'running') return job;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error('job did not finish');
}

const snap = () => sim.pool.snapshot;
const vmRef = (name: string) => {
	const ref = Object.entries(snap().VM).find(([, v]) => v.name_label === name)?.[0];
	if (!ref) throw new Error(`no VM ${name}`);
	return ref;
};
const srRef = (name: string) => {
	const ref = Object.entries(snap().SR).find(([, s]) => s.name_label === name)?.[0];
	if (!ref) throw new Error(`no SR ${name}`);
	return ref;
};

/** The pool's current settings in the API's shape: what a freshly opened wizard would send. */
function settingsNow() {
	return Object.entries(snap().VM)
		.filter(([, v]) => !v.is_a_template && !v.is_control_domain && !v.is_a_snapshot)
		.map(([vm, v]) => ({ vm, priority: v.ha_restart_priority as 'restart' | 'best-effort' | '', order: v.order, startDelay: v.start_delay }));
}
function baselineNow() {
	const pool = Object.values(snap().pool)[0];
	return { haEnabled: pool?.ha_enabled ?? false, ntol: pool?.ha_host_failures_to_tolerate ?? 0, vms: settingsNow() };
}
function withSetting(vms: ReturnType<typeof settingsNow>, name: string, change: Partial<(typeof vms)[number]>) {
	const ref = vmRef(name);
	return vms.map((s) => (s.vm === ref ? { ...s, ...change } : s));
}
function validEnable() {
	return { sr: srRef('iSCSI heartbeat LUN'), ntol: 1, vms: settingsNow(), baseline: baselineNow() };
}

beforeAll(async () => {
	sim = await startSimulatedPool({ scenario: 'mixed-storage', port: 0, password: PASSWORD, authFailureDelayMs: 10, speed: 600 });
	dataDir = mkdtempSync(join(tmpdir(), 'haven-ops-'));
	haven = await startHaven({ HAVEN_POOLS: `test=${sim.address}`, HAVEN_EMBEDDED_SIM: 'none', HAVEN_DATA_DIR: dataDir });
	for (const user of ['admin', 'operator', 'helpdesk']) cookies[user] = await login(user);
});

/**
 * Stops Haven. Its history collector keeps the process alive after SIGTERM (reported to the
 * history owners), so after a grace period it is killed; committed audit rows survive that.
 */
async function stopHaven(): Promise<void> {
	const child = haven?.child;
	if (!child || child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	child.kill('SIGTERM');
	await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
	if (child.exitCode === null && child.signalCode === null) {
		child.kill('SIGKILL');
		await exited;
	}
}

afterAll(async () => {
	await stopHaven();
	await sim?.stop();
});

describe('the allow-list', () => {
	it('refuses a read-only user with 403 even for a well-formed request, and changes nothing', async () => {
		const before = JSON.stringify(snap().pool);
		for (const op of ['enable', 'disable', 'reconfigure']) {
			const res = await post(`/api/ha/${op}`, op === 'disable' ? { confirm: true } : validEnable(), { user: 'helpdesk' });
			expect(res.status).toBe(403);
			expect(((await res.json()) as { code: string }).code).toBe('FORBIDDEN_ROLE');
		}
		expect(JSON.stringify(snap().pool)).toBe(before);
	});

	it('answers an operation that is not on the list with 404', async () => {
		for (const op of ['designate_new_master', 'enable_ha', '..%2Fpool%2Fsnapshot']) {
			const res = await post(`/api/ha/${op}`, {});
			expect(res.status).toBe(404);
		}
		const res = await post('/api/ha/emergency_disable', {});
		expect(((await res.json()) as { code: string }).code).toBe('UNKNOWN_OPERATION');
	});

	it('refuses a request from another site and one without a session', async () => {
		expect((await post('/api/ha/disable', { confirm: true }, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
		const res = await fetch(`${haven.url}/api/ha/disable`, { method: 'POST', headers: { origin: haven.url, 'content-type': 'application/json' }, body: '{"confirm":true}' });
		expect(res.status).toBe(401);
	});

	it('does not answer GET on an operation', async () => {
		const res = await fetch(`${haven.url}/api/ha/enable`, { headers: { cookie: cookies['admin'] ?? '' } });
		expect(res.status).toBe(405);
	});
});

describe('malformed input: 4xx naming what is wrong, nothing changed', () => {
	const cases: { name: string; body?: () => unknown; raw?: string; headers?: Record<string, string>; status: number; code: string; field?: string | RegExp }[] = [
		{ name: 'broken JSON', raw: '{"sr": ', status: 400, code: 'INVALID_JSON' },
		{ name: 'not JSON at all', raw: 'sr=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
		{ name: 'a body over 1 MiB', raw: JSON.stringify({ pad: 'x'.repeat(1_100_000) }), status: 413, code: 'BODY_TOO_LARGE' },
		{ name: 'an array instead of an object', body: () => [], status: 400, code: 'INVALID_INPUT', field: 'body' },
		{ name: 'ntol as a string', body: () => ({ ...validEnable(), ntol: '1' }), status: 400, code: 'INVALID_INPUT', field: 'ntol' },
		{ name: 'a negative ntol', body: () => ({ ...validEnable(), ntol: -1 }), status: 400, code: 'INVALID_INPUT', field: 'ntol' },
		{ name: 'a huge ntol', body: () => ({ ...validEnable(), ntol: 1e12 }), status: 400, code: 'INVALID_INPUT', field: 'ntol' },
		{ name: 'a fractional ntol', body: () => ({ ...validEnable(), ntol: 1.5 }), status: 400, code: 'INVALID_INPUT', field: 'ntol' },
		{ name: 'a timeout below 10 s', body: () => ({ ...validEnable(), timeout: 5 }), status: 400, code: 'INVALID_INPUT', field: 'timeout' },
		{ name: 'an SR that is not a ref', body: () => ({ ...validEnable(), sr: 'iSCSI' }), status: 400, code: 'INVALID_INPUT', field: 'sr' },
		{ name: 'a missing baseline', body: () => ({ ...validEnable(), baseline: undefined }), status: 400, code: 'INVALID_INPUT', field: 'baseline' },
		{ name: 'an unknown priority', body: () => ({ ...validEnable(), vms: [{ vm: 'OpaqueRef:x', priority: 'always', order: 0, startDelay: 0 }] }), status: 400, code: 'INVALID_INPUT', field: 'vms.0.priority' },
		{ name: 'a negative start delay', body: () => ({ ...validEnable(), vms: [{ vm: 'OpaqueRef:x', priority: 'restart', order: 0, startDelay: -5 }] }), status: 400, code: 'INVALID_INPUT', field: 'vms.0.startDelay' },
		{ name: 'a huge order', body: () => ({ ...validEnable(), vms: [{ vm: 'OpaqueRef:x', priority: 'restart', order: 2 ** 40, startDelay: 0 }] }), status: 400, code: 'INVALID_INPUT', field: 'vms.0.order' },
		{ name: 'an unknown key', body: () => ({ ...validEnable(), allowOvercommit: true }), status: 400, code: 'INVALID_INPUT', field: 'allowOvercommit' },
		{ name: 'an unknown SR ref', body: () => ({ ...validEnable(), sr: 'OpaqueRef:00000000-0000-0000-0000-000000000000' }), status: 400, code: 'UNKNOWN_REF', field: 'sr' },
		{
			name: 'an unknown VM ref',
			body: () => ({ ...validEnable(), vms: [{ vm: 'OpaqueRef:00000000-0000-0000-0000-000000000001', priority: 'restart', order: 0, startDelay: 0 }] }),
			status: 400,
			code: 'UNKNOWN_REF',
			field: 'vms[0].vm'
		},
		{ name: 'disable without confirmation', body: () => ({ confirm: false }), status: 400, code: 'INVALID_INPUT', field: 'confirm' }
	];
	for (const c of cases) {
		it(`${c.name} → ${c.status} ${c.code}${c.field ? ` (${String(c.field)})` : ''}`, async () => {
			const before = JSON.stringify(snap().pool);
			const op = c.name.startsWith('disable') ? 'disable' : 'enable';
			const res = await post(`/api/ha/${op}`, c.body?.(), { raw: c.raw, headers: c.headers });
			expect(res.status).toBe(c.status);
			const answer = (await res.json()) as { code: string; field?: string; message: string };
			expect(answer.code).toBe(c.code);
			if (c.field) expect(answer.field).toEqual(c.field);
			if (c.field && c.field !== 'body') expect(answer.message).toContain(String(c.field));
			expect(JSON.stringify(snap().pool)).toBe(before);
		});
	}
});

describe('checks against the pool before the first call', () => {
	it('refuses an SR that cannot hold the heartbeat, saying why', async () => {
		const res = await post('/api/ha/enable', { ...validEnable(), sr: srRef('NetApp filer') });
		expect(res.status).toBe(409);
		const answer = (await res.json()) as { code: string; field: string; message: string };
		expect(answer).toMatchObject({ code: 'SR_NOT_QUALIFIED', field: 'sr' });
		expect(answer.message).toContain('provision an iSCSI LUN on the array');
		expect(Object.values(snap().pool)[0]?.ha_enabled).toBe(false);
	});

	it('refuses to protect a non-agile VM, naming it and the cause, before changing any other VM', async () => {
		let vms = withSetting(settingsNow(), 'file-server', { priority: 'restart', order: 1 });
		vms = withSetting(vms, 'cad-workstation (vGPU)', { priority: 'restart', order: 0 });
		const res = await post('/api/ha/enable', { ...validEnable(), vms });
		expect(res.status).toBe(409);
		const answer = (await res.json()) as { code: string; field: string; message: string };
		expect(answer.code).toBe('VM_NOT_AGILE');
		expect(answer.field).toMatch(/^vms\[\d+\]\.priority$/);
		expect(answer.message).toContain('cad-workstation (vGPU)');
		expect(answer.message).toContain('virtual GPU');
		expect(snap().VM[vmRef('file-server')]?.ha_restart_priority).toBe('');
	});

	it('refuses more failures to tolerate than the plan supports', async () => {
		const res = await post('/api/ha/enable', { ...validEnable(), ntol: 4 });
		expect(res.status).toBe(409);
		const answer = (await res.json()) as { code: string; field: string; details: { max: number } };
		expect(answer).toMatchObject({ code: 'HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN', field: 'ntol' });
		expect(answer.details.max).toBeLessThan(4);
	});

	it('answers 409 POOL_CHANGED with the differences when the pool moved since the wizard read it', async () => {
		const body = validEnable();
		const shown = withSetting(body.baseline.vms, 'intranet', { priority: '' });
		const res = await post('/api/ha/enable', { ...body, baseline: { ...body.baseline, vms: shown, ntol: 3 } });
		expect(res.status).toBe(409);
		const answer = (await res.json()) as { code: string; details: { differences: { what: string; shown: string; now: string }[] } };
		expect(answer.code).toBe('POOL_CHANGED');
		expect(answer.details.differences).toEqual(
			expect.arrayContaining([
				{ what: 'Host failures to tolerate', shown: '3', now: '0' },
				{ what: 'intranet', shown: 'Do not restart', now: 'Best effort' }
			])
		);
		// A VM deleted since the wizard read the pool is a difference too, not a bad request.
		const ghost = 'OpaqueRef:00000000-0000-0000-0000-0000000000aa';
		const withGhost = await post('/api/ha/enable', { ...body, baseline: { ...body.baseline, vms: [...body.baseline.vms, { vm: ghost, priority: 'restart', order: 0, startDelay: 0 }] } });
		expect(withGhost.status).toBe(409);
		const ghostAnswer = (await withGhost.json()) as { code: string; details: { differences: { what: string; now: string }[] } };
		expect(ghostAnswer.code).toBe('POOL_CHANGED');
		expect(ghostAnswer.details.differences).toContainEqual({ what: ghost, shown: 'High (order 0)', now: 'no longer in the pool' });
	});
});

describe('applying', () => {
	it('stops at a failing step and reports applied, failed (with the XAPI code) and not run', { timeout: 90_000 }, async () => {
		// Slow the clock so the first task is still running when the master dies.
		await fetch(`${sim.controlUrl}/control/clock`, { method: 'POST', body: JSON.stringify({ speed: 0.01 }) });
		const vms = withSetting(withSetting(settingsNow(), 'erp-app', { priority: 'best-effort' }), 'file-server', { priority: 'restart', order: 2, startDelay: 5 });
		const res = await post('/api/ha/enable', { ...validEnable(), vms });
		expect(res.status).toBe(202);
		const { job } = (await res.json()) as { job: JobView };
		expect(job.steps.map((s) => s.call)).toEqual([
			'VM.set_ha_restart_priority',
			'pool.set_ha_host_failures_to_tolerate',
			'VM.set_ha_restart_priority',
			'VM.set_order',
			'VM.set_start_delay',
			'pool.enable_ha'
		]);
		// One change at a time per pool: a second one is refused while this one runs.
		const second = await post('/api/ha/enable', validEnable(), { user: 'operator' });
		expect(second.status).toBe(409);
		expect(((await second.json()) as { code: string }).code).toBe('OPERATION_IN_PROGRESS');
		await fetch(`${sim.controlUrl}/control/master/fail`, { method: 'POST', body: '{}' });
		let done: JobView;
		try {
			done = await waitJob(job.id);
		} finally {
			await fetch(`${sim.controlUrl}/control/hosts/mix-host-1/recover`, { method: 'POST', body: '{}' });
			await fetch(`${sim.controlUrl}/control/clock`, { method: 'POST', body: JSON.stringify({ speed: 600 }) });
		}
		for (let i = 0; i < 100; i++) {
			const state = (await (await fetch(`${sim.controlUrl}/control/state`)).json()) as { master: { reachable: boolean } };
			if (state.master.reachable) break;
			await new Promise((r) => setTimeout(r, 50));
		}
		expect(done.state).toBe('failed');
		expect(done.steps[0]?.status).toBe('failed');
		expect(done.steps.slice(1).every((s) => s.status === 'not-run')).toBe(true);
		expect(done.error?.step).toBe(0);
		expect(done.error?.code).toMatch(/^[A-Z_]+$/);
		expect(snap().VM[vmRef('file-server')]?.ha_restart_priority).toBe('');
		expect(Object.values(snap().pool)[0]?.ha_enabled).toBe(false);
		// The session may have been dropped with the master: sign in again for what follows.
		cookies['admin'] = await login('admin');
		cookies['operator'] = await login('operator');
	});

	it('stops at enable when the statefile cannot be reached: the priorities before it were applied', async () => {
		await fetch(`${sim.controlUrl}/control/statefile/break`, { method: 'POST', body: '{}' });
		let done: JobView;
		try {
			const vms = withSetting(settingsNow(), 'file-server', { priority: 'restart', order: 1 });
			const res = await post('/api/ha/enable', { ...validEnable(), vms }, { user: 'operator' });
			expect(res.status).toBe(202);
			done = await waitJob(((await res.json()) as { job: JobView }).job.id, 'operator');
		} finally {
			await fetch(`${sim.controlUrl}/control/statefile/repair`, { method: 'POST', body: '{}' });
		}
		expect(done.state).toBe('failed');
		expect(done.steps.map((s) => s.status)).toEqual(['applied', 'applied', 'applied', 'failed']);
		expect(done.steps[3]).toMatchObject({ call: 'pool.enable_ha', code: 'HA_HOST_CANNOT_ACCESS_STATEFILE' });
		expect(snap().VM[vmRef('file-server')]).toMatchObject({ ha_restart_priority: 'restart', order: 1 });
		expect(Object.values(snap().pool)[0]?.ha_enabled).toBe(false);
	});

	it('enables HA in the safe order, then reconfigures (protection removed before the tolerance rises) and turns it off', async () => {
		const vms = withSetting(withSetting(settingsNow(), 'file-server', { priority: 'best-effort' }), 'intranet', { priority: 'restart', order: 2, startDelay: 10 });
		const res = await post('/api/ha/enable', { ...validEnable(), ntol: 2, vms });
		expect(res.status).toBe(202);
		const enabled = await waitJob(((await res.json()) as { job: JobView }).job.id);
		expect(enabled.state).toBe('succeeded');
		const labels = enabled.steps.map((s) => s.label);
		// The statefile test above left file-server protected and the tolerance at 1.
		const [unprotect, ntol, protect] = [
			'file-server: restart priority restart → best effort',
			'Host failures to tolerate 1 → 2',
			'intranet: restart priority best effort → restart'
		].map((label) => labels.indexOf(label));
		expect(unprotect).toBeGreaterThanOrEqual(0);
		expect(unprotect).toBeLessThan(ntol as number);
		expect(ntol).toBeLessThan(protect as number);
		expect(labels.at(-1)).toBe('Enable HA with the heartbeat on iSCSI heartbeat LUN');
		const pool = Object.values(snap().pool)[0];
		expect(pool).toMatchObject({ ha_enabled: true, ha_host_failures_to_tolerate: 2, ha_overcommitted: false });
		expect(snap().VM[vmRef('intranet')]).toMatchObject({ ha_restart_priority: 'restart', order: 2, start_delay: 10 });
		const statefileSr = snap().VDI[pool?.ha_statefiles[0] ?? '']?.SR;
		expect(statefileSr).toBe(srRef('iSCSI heartbeat LUN'));

		// Enabling again is refused; reconfigure: drop intranet, tolerate 3.
		expect((await post('/api/ha/enable', validEnable())).status).toBe(409);
		const again = await post('/api/ha/reconfigure', { ntol: 3, vms: withSetting(settingsNow(), 'intranet', { priority: '' }), baseline: baselineNow() });
		expect(again.status).toBe(202);
		const reconfigured = await waitJob(((await again.json()) as { job: JobView }).job.id);
		expect(reconfigured.state).toBe('succeeded');
		expect(reconfigured.steps.map((s) => s.call)).toEqual(['VM.set_ha_restart_priority', 'pool.set_ha_host_failures_to_tolerate']);
		expect(Object.values(snap().pool)[0]?.ha_host_failures_to_tolerate).toBe(3);

		const off = await post('/api/ha/disable', { confirm: true }, { user: 'operator' });
		expect(off.status).toBe(202);
		expect((await waitJob(((await off.json()) as { job: JobView }).job.id, 'operator')).state).toBe('succeeded');
		expect(Object.values(snap().pool)[0]?.ha_enabled).toBe(false);
	});

	it('after a part-way failure, rolls back what it changed, or resumes and applies only the rest', { timeout: 90_000 }, async () => {
		const statefile = (action: 'break' | 'repair') => fetch(`${sim.controlUrl}/control/statefile/${action}`, { method: 'POST', body: '{}' });
		const before = baselineNow();
		const intranetBefore = before.vms.find((s) => s.vm === vmRef('intranet'));
		const body = { ...validEnable(), ntol: 1, vms: withSetting(settingsNow(), 'intranet', { priority: 'restart', order: 1 }) };
		const failOnce = async () => {
			await statefile('break');
			try {
				const res = await post('/api/ha/enable', { ...body, baseline: baselineNow() });
				expect(res.status).toBe(202);
				return await waitJob(((await res.json()) as { job: JobView }).job.id);
			} finally {
				await statefile('repair');
			}
		};

		const failed = await failOnce();
		expect(failed.state).toBe('failed');
		expect(failed.steps.at(-1)).toMatchObject({ call: 'pool.enable_ha', status: 'failed' });
		expect(snap().VM[vmRef('intranet')]?.ha_restart_priority).toBe('restart');

		// Roll back: the wizard sends the settings it started from, for the VMs it touched.
		expect((await post('/api/ha/restore', { ntol: before.ntol, vms: [intranetBefore] }, { user: 'helpdesk' })).status).toBe(403);
		const back = await post('/api/ha/restore', { ntol: before.ntol, vms: [intranetBefore] });
		expect(back.status).toBe(202);
		const rolledBack = await waitJob(((await back.json()) as { job: JobView }).job.id);
		expect(rolledBack.state).toBe('succeeded');
		expect(snap().VM[vmRef('intranet')]?.ha_restart_priority).toBe(intranetBefore?.priority);
		expect(Object.values(snap().pool)[0]?.ha_host_failures_to_tolerate).toBe(before.ntol);
		const nothing = await post('/api/ha/restore', { ntol: before.ntol, vms: [intranetBefore] });
		expect(nothing.status).toBe(400);
		expect(((await nothing.json()) as { code: string }).code).toBe('NOTHING_TO_CHANGE');

		// Resume: the same request again, confirmed; only what is missing is applied.
		expect((await failOnce()).state).toBe('failed');
		const resumed = await post('/api/ha/enable', { ...body, baseline: before, confirmChanged: true });
		expect(resumed.status).toBe(202);
		const finished = await waitJob(((await resumed.json()) as { job: JobView }).job.id);
		expect(finished.state).toBe('succeeded');
		expect(finished.steps.map((s) => s.call)).toEqual(['pool.enable_ha']);
		expect(Object.values(snap().pool)[0]).toMatchObject({ ha_enabled: true, ha_host_failures_to_tolerate: 1 });

		// Leave the pool as the next test expects it: HA off, intranet and the tolerance as before.
		expect((await waitJob(((await (await post('/api/ha/disable', { confirm: true })).json()) as { job: JobView }).job.id)).state).toBe('succeeded');
		expect((await waitJob(((await (await post('/api/ha/restore', { ntol: before.ntol, vms: [intranetBefore] })).json()) as { job: JobView }).job.id)).state).toBe('succeeded');
	});

	it("does not show one user's job to another", async () => {
		const res = await post('/api/ha/reconfigure', { ntol: 0, vms: settingsNow(), baseline: baselineNow() });
		expect(res.status).toBe(409); // HA is off now
		const other = await fetch(`${haven.url}/api/ha/jobs/nonexistent`, { headers: { cookie: cookies['helpdesk'] ?? '' } });
		expect(other.status).toBe(404);
	});
});

describe('audit', () => {
	it('has a row for every run: who, role, action, request and outcome', { timeout: 60_000 }, async () => {
		await stopHaven();
		const db = await openDbFromEnv({ HAVEN_DATA_DIR: dataDir });
		try {
			const rows = await queryAudit(db, { pool: 'test' });
			const actions = rows.map((r) => `${r.action}:${r.user}:${r.outcome}`);
			expect(actions).toContain('ha.enable:admin:success');
			expect(actions).toContain('ha.enable:operator:failure');
			expect(actions).toContain('ha.reconfigure:admin:success');
			expect(actions).toContain('ha.disable:operator:success');
			// A read-only user's attempt never reaches the operation, so it is not a run.
			expect(rows.some((r) => r.user === 'helpdesk')).toBe(false);
			const statefile = rows.find((r) => r.user === 'operator' && r.action === 'ha.enable');
			expect(statefile?.error).toMatchObject({ code: 'HA_HOST_CANNOT_ACCESS_STATEFILE' });
			expect(JSON.stringify(statefile?.error)).toContain('3 applied');
			const refusedSr = rows.find((r) => r.outcome === 'failure' && JSON.stringify(r.error).includes('SR_NOT_QUALIFIED'));
			expect(refusedSr?.role).toBe('pool-admin');
			for (const r of rows) expect(JSON.stringify(r)).not.toContain(PASSWORD);
		} finally {
			await db.close();
		}
	});
});
