/**
 * Conformance: the simulated pool driven over real HTTP by an independent XML-RPC client (the
 * `xmlrpc` package) and by Haven's own JSON-RPC client, checking XAPI's result and error shapes
 * and every method and error Haven relies on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XapiClient } from '../../../src/lib/xapi/client';
import { toolstackFailoverPlan, toolstackMaxFailuresToTolerate } from '../../../src/lib/planner';
import { XapiError } from '../../../src/lib/xapi/errors';
import type { RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';
import { jsonRpcTransport } from '../../../src/lib/xapi/transport';
import { control, PASSWORD, rawJsonRpc, refByName, startSim, waitFor, xmlFail, xmlOk, xmlRpcClient } from './helpers';

type Call = (m: string, p: unknown[]) => Promise<unknown>;

async function jsonClient(sim: RunningSimulatedPool, user = 'root'): Promise<XapiClient> {
	const client = new XapiClient({ address: sim.address, transport: (url) => jsonRpcTransport(url.toString(), { timeoutMs: 30_000 }) });
	await client.login(user, PASSWORD);
	return client;
}

async function expectXapiError(promise: Promise<unknown>, code: string, params?: string[]): Promise<XapiError> {
	try {
		await promise;
	} catch (e) {
		expect(e).toBeInstanceOf(XapiError);
		const error = e as XapiError;
		expect(error.code).toBe(code);
		if (params) expect(error.params).toEqual(params);
		return error;
	}
	throw new Error(`expected ${code}, but the call succeeded`);
}

describe('wire protocol', () => {
	let sim: RunningSimulatedPool;
	let xml: Call;
	let session: string;
	beforeAll(async () => {
		sim = await startSim();
		xml = xmlRpcClient('127.0.0.1', sim.port);
		session = (await xmlOk(xml, 'session.login_with_password', ['root', PASSWORD, '1.0', 'conformance'])) as string;
	});
	afterAll(() => sim.stop());

	it('answers XML-RPC at / and /RPC2 with Status structs and int64 as strings', async () => {
		const rpc2 = xmlRpcClient('127.0.0.1', sim.port, '/RPC2');
		const pools = (await xmlOk(rpc2, 'pool.get_all_records', [session])) as Record<string, Record<string, unknown>>;
		const pool = Object.values(pools)[0];
		expect(pool?.['ha_host_failures_to_tolerate']).toBe('0');
		expect(pool?.['ha_enabled']).toBe(false);
		const hosts = (await xmlOk(xml, 'host_metrics.get_all_records', [session])) as Record<string, { memory_total: unknown }>;
		for (const m of Object.values(hosts)) expect(m.memory_total).toMatch(/^\d+$/);
		// Datetimes travel as <dateTime.iso8601>, which the package turns into Dates.
		const metrics = (await xmlOk(xml, 'VM_metrics.get_all_records', [session])) as Record<string, { start_time: unknown }>;
		expect(Object.values(metrics)[0]?.start_time).toBeInstanceOf(Date);
	});

	it('lists every method the issue asks for', async () => {
		const methods = (await xml('system.listMethods', [])) as string[];
		const wanted = [
			'pool.get_all_records', 'VM.get_record', 'host.get_by_uuid', 'VM.get_ha_restart_priority',
			'pool.enable_ha', 'Async.pool.enable_ha', 'pool.disable_ha', 'Async.pool.disable_ha',
			'pool.ha_compute_max_host_failures_to_tolerate', 'pool.ha_compute_hypothetical_max_host_failures_to_tolerate',
			'pool.ha_compute_vm_failover_plan', 'pool.ha_failover_plan_exists', 'pool.set_ha_host_failures_to_tolerate',
			'SR.assert_can_host_ha_statefile', 'VM.assert_agile', 'VM.set_ha_restart_priority', 'VM.set_order', 'VM.set_start_delay',
			'VM.start', 'VM.start_on', 'VM.clean_shutdown', 'host.disable', 'host.enable', 'pool.designate_new_master',
			'host.emergency_ha_disable', 'task.get_record', 'task.get_status', 'task.get_progress', 'task.get_result',
			'task.get_error_info', 'task.cancel', 'task.destroy', 'task.get_all_records', 'event.from', 'event.inject',
			'message.get_all_records', 'system.listMethods', 'session.login_with_password', 'session.logout'
		];
		expect(wanted.filter((m) => !methods.includes(m))).toEqual([]);
	});

	it('answers system.listMethods over XML-RPC as a bare array', async () => {
		const methods = (await xml('system.listMethods', [])) as string[];
		expect(Array.isArray(methods)).toBe(true);
		for (const m of ['pool.enable_ha', 'Async.pool.enable_ha', 'event.from', 'VM.get_power_state', 'SR.assert_can_host_ha_statefile', 'task.cancel']) {
			expect(methods).toContain(m);
		}
	});

	it('answers JSON-RPC v2 and v1 in their shapes, with application/json exactly', async () => {
		const v2 = await rawJsonRpc(sim.url, { jsonrpc: '2.0', method: 'pool.get_all', params: [session], id: 'a1' });
		expect(v2.contentType).toBe('application/json');
		expect(v2.body).toEqual({ jsonrpc: '2.0', result: [expect.stringMatching(/^OpaqueRef:/)], id: 'a1' });
		const v2error = await rawJsonRpc(sim.url, { jsonrpc: '2.0', method: 'VM.get_record', params: [session, 'OpaqueRef:missing'], id: 7 });
		expect(v2error.body).toEqual({ jsonrpc: '2.0', error: { code: 1, message: 'HANDLE_INVALID', data: ['VM', 'OpaqueRef:missing'] }, id: 7 });
		const v1 = await rawJsonRpc(sim.url, { method: 'pool.get_all', params: [session], id: 3 });
		expect(v1.body).toEqual({ result: [expect.stringMatching(/^OpaqueRef:/)], error: null, id: 3 });
		const v1error = await rawJsonRpc(sim.url, { method: 'no.such_method', params: [session], id: 4 });
		expect(v1error.body).toEqual({ result: null, error: ['MESSAGE_METHOD_UNKNOWN', 'no.such_method'], id: 4 });
	});

	it('rejects bad credentials after a delay, unknown sessions, unknown methods and wrong arity', async () => {
		expect(await xmlFail(xml, 'session.login_with_password', ['root', 'wrong'])).toEqual(['SESSION_AUTHENTICATION_FAILED', 'root', 'Authentication failure']);
		expect(await xmlFail(xml, 'session.login_with_password', ['nobody', PASSWORD])).toEqual(['SESSION_AUTHENTICATION_FAILED', 'nobody', 'Authentication failure']);
		expect(await xmlFail(xml, 'pool.get_all', ['OpaqueRef:not-a-session'])).toEqual(['SESSION_INVALID', 'OpaqueRef:not-a-session']);
		expect(await xmlFail(xml, 'pool.frobnicate', [session])).toEqual(['MESSAGE_METHOD_UNKNOWN', 'pool.frobnicate']);
		expect(await xmlFail(xml, 'Async.VM.get_record', [session, 'x'])).toEqual(['MESSAGE_METHOD_UNKNOWN', 'Async.VM.get_record']);
		expect(await xmlFail(xml, 'VM.get_record', [session])).toEqual(['MESSAGE_PARAMETER_COUNT_MISMATCH', 'VM.get_record', '2', '1']);
		expect(await xmlFail(xml, 'session.login_with_password', ['root'])).toEqual(['MESSAGE_PARAMETER_COUNT_MISMATCH', 'session.login_with_password', '4', '1']);
	});

	it('answers HOST_IS_SLAVE with the master address on every other host', async () => {
		for (const address of ['127.0.0.2', '127.0.0.3']) {
			const slave = xmlRpcClient(address, sim.port);
			expect(await xmlFail(slave, 'session.login_with_password', ['root', PASSWORD])).toEqual(['HOST_IS_SLAVE', '127.0.0.1']);
		}
		// Haven's client follows it by swapping the host name.
		const client = new XapiClient({ address: `127.0.0.3:${sim.port}`, transport: (url) => jsonRpcTransport(url.toString()) });
		await client.login('root', PASSWORD);
		expect(client.baseUrl.hostname).toBe('127.0.0.1');
		await client.logout();
	});

	it('logs out, after which the session is invalid', async () => {
		const s = (await xmlOk(xml, 'session.login_with_password', ['helpdesk', PASSWORD])) as string;
		expect(await xmlOk(xml, 'session.logout', [s])).toBe('');
		expect((await xmlFail(xml, 'pool.get_all', [s]))[0]).toBe('SESSION_INVALID');
	});
});

describe('readers and argument checks', () => {
	let sim: RunningSimulatedPool;
	let client: XapiClient;
	beforeAll(async () => {
		sim = await startSim();
		client = await jsonClient(sim);
	});
	afterAll(() => sim.stop());

	it('serves get_record, get_by_uuid, get_by_name_label and a getter per field', async () => {
		const vms = await client.getAllRecords('VM');
		const [ref, vm] = Object.entries(vms).find(([, v]) => v.name_label === 'db-primary') ?? [];
		if (!ref || !vm) throw new Error('db-primary missing');
		expect(await client.call('VM.get_record', ref)).toEqual(vm);
		expect(await client.call('VM.get_by_uuid', vm.uuid)).toBe(ref);
		expect(await client.call('VM.get_by_name_label', 'db-primary')).toEqual([ref]);
		expect(await client.call('VM.get_power_state', ref)).toBe('Running');
		expect(await client.call('VM.get_memory_static_max', ref)).toBe(16 * 2 ** 30);
		expect(await client.call('host.get_address', vm.resident_on)).toBe('127.0.0.1');
		expect((await client.call<string[]>('VM.get_all')).length).toBe(Object.keys(vms).length);
	});

	it('fails with HANDLE_INVALID, UUID_INVALID and FIELD_TYPE_ERROR as xapi does', async () => {
		await expectXapiError(client.call('host.get_record', 'OpaqueRef:nope'), 'HANDLE_INVALID', ['host', 'OpaqueRef:nope']);
		await expectXapiError(client.call('VM.get_by_uuid', '00000000-0000-0000-0000-000000000000'), 'UUID_INVALID', ['VM', '00000000-0000-0000-0000-000000000000']);
		const vm = refByName(sim.pool.snapshot, 'VM', 'web-1');
		await expectXapiError(client.call('VM.set_order', vm, 'soon'), 'FIELD_TYPE_ERROR', ['value']);
		await expectXapiError(client.call('pool.ha_failover_plan_exists', { n: 1 }), 'FIELD_TYPE_ERROR', ['n']);
		await expectXapiError(client.call('pool.enable_ha', 'not-a-list', {}), 'FIELD_TYPE_ERROR', ['heartbeat_srs']);
		await expectXapiError(client.call('pool.enable_ha', ['OpaqueRef:nope'], {}), 'HANDLE_INVALID', ['SR', 'OpaqueRef:nope']);
	});
});

describe('RBAC', () => {
	let sim: RunningSimulatedPool;
	beforeAll(async () => {
		sim = await startSim();
	});
	afterAll(() => sim.stop());

	it('lets read-only compute the hypothetical tolerance but nothing else that plans or writes', async () => {
		const helpdesk = await jsonClient(sim, 'helpdesk');
		expect(await helpdesk.call('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', {})).toBe(3);
		const denied = await expectXapiError(helpdesk.call('pool.ha_compute_max_host_failures_to_tolerate'), 'RBAC_PERMISSION_DENIED');
		expect(denied.params[0]).toBe('pool.ha_compute_max_host_failures_to_tolerate');
		expect(denied.params[1]).toMatch(/pool-admin, pool-operator\)$/);
		await expectXapiError(helpdesk.call('pool.ha_compute_vm_failover_plan', [], []), 'RBAC_PERMISSION_DENIED');
		await expectXapiError(helpdesk.call('pool.ha_failover_plan_exists', 1), 'RBAC_PERMISSION_DENIED');
		const pool = Object.keys(sim.pool.snapshot.pool)[0];
		await expectXapiError(helpdesk.call('pool.set_ha_host_failures_to_tolerate', pool, 1), 'RBAC_PERMISSION_DENIED');
		await expectXapiError(helpdesk.call('VM.start', refByName(sim.pool.snapshot, 'VM', 'test-vm'), false, false), 'RBAC_PERMISSION_DENIED', ['vm.start', expect.any(String) as string]);
		// Agility is readable by anyone.
		expect(await helpdesk.call('VM.assert_agile', refByName(sim.pool.snapshot, 'VM', 'web-1'))).toBe('');
	});

	it('lets vm-operator start VMs but not start_on (vm-power-admin) nor set priorities (pool-operator)', async () => {
		const vmop = await jsonClient(sim, 'vmoperator');
		const vm = refByName(sim.pool.snapshot, 'VM', 'test-vm');
		const host2 = refByName(sim.pool.snapshot, 'host', 'xcp-host-2');
		await expectXapiError(vmop.call('VM.start_on', vm, host2, false, false), 'RBAC_PERMISSION_DENIED');
		await expectXapiError(vmop.call('VM.set_ha_restart_priority', vm, 'restart'), 'RBAC_PERMISSION_DENIED');
		expect(await vmop.call('VM.start', vm, false, false)).toBe('');
		const power = await jsonClient(sim, 'poweradmin');
		await waitFor('test-vm running', () => sim.pool.snapshot.VM[vm]?.power_state === 'Running');
		await power.call('VM.clean_shutdown', vm);
		expect(await power.call('VM.start_on', vm, host2, false, false)).toBe('');
		expect(sim.pool.snapshot.VM[vm]?.resident_on).toBe(host2);
	});

	it('shows a session its own permissions only', async () => {
		const op = await jsonClient(sim, 'operator');
		const record = await op.call<{ rbac_permissions: string[]; auth_user_name: string; originator: string }>('session.get_record', op.sessionRef);
		expect(record.auth_user_name).toBe('operator');
		expect(record.rbac_permissions).toContain('pool.enable_ha');
		expect(record.rbac_permissions).not.toContain('message.destroy_all');
		await expectXapiError(op.call('session.get_record', 'OpaqueRef:someone-else'), 'HANDLE_INVALID');
	});
});

describe('heartbeat SR checks and HA enable/disable', () => {
	let sim: RunningSimulatedPool;
	let client: XapiClient;
	beforeAll(async () => {
		// Slow enough (9 simulated seconds of enable take 90 ms) to watch progress move.
		sim = await startSim({ scenario: 'mixed-storage', speed: 100 });
		client = await jsonClient(sim, 'operator');
	});
	afterAll(() => sim.stop());

	it('gives each unsuitable SR its reason', async () => {
		const expected: Record<string, string | null> = {
			'iSCSI heartbeat LUN': null,
			'Fibre Channel SAN': null,
			'NFS VM store': null,
			'Local storage on mix-host-1': 'SR_NO_PBDS',
			'iSCSI LUN not marked shared': 'SR_OPERATION_NOT_SUPPORTED',
			'iSCSI LUN not attached to mix-host-4': 'SR_NO_PBDS',
			'NFS share unplugged on mix-host-2': 'SR_NO_PBDS',
			'Tiny iSCSI LUN (1 GiB, 256 MiB free)': 'SR_SOURCE_SPACE_INSUFFICIENT',
			'NetApp filer': 'SR_OPERATION_NOT_SUPPORTED',
			'EqualLogic array': 'SR_OPERATION_NOT_SUPPORTED',
			'ISO library': 'SR_OPERATION_NOT_SUPPORTED'
		};
		for (const [name, code] of Object.entries(expected)) {
			const sr = refByName(sim.pool.snapshot, 'SR', name);
			if (code === null) expect(await client.call('SR.assert_can_host_ha_statefile', sr), name).toBe('');
			else await expectXapiError(client.call('SR.assert_can_host_ha_statefile', sr), code, [sr]);
		}
	});

	it('names the cause of each non-agile VM', async () => {
		const expected: Record<string, string> = {
			'ci-runner (local disk)': 'HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED',
			'legacy-app (unshared LUN)': 'HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED',
			'archive (SR missing on host 4)': 'HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED',
			'lab-router (host-1-only network)': 'HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED',
			'appliance (internal network)': 'HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED',
			'cad-workstation (vGPU)': 'VM_HAS_VGPU',
			'licence-dongle (USB)': 'VM_HAS_VUSBS',
			'capture-card (PCI)': 'VM_HAS_PCI_ATTACHED',
			'nfv-firewall (SR-IOV)': 'VM_HAS_SRIOV_VIF'
		};
		for (const [name, code] of Object.entries(expected)) {
			await expectXapiError(client.call('VM.assert_agile', refByName(sim.pool.snapshot, 'VM', name)), code);
		}
		expect(await client.call('VM.assert_agile', refByName(sim.pool.snapshot, 'VM', 'erp-db'))).toBe('');
	});

	it('refuses enable_ha on an unsuitable SR, a bad timeout, and while enabled', async () => {
		const tiny = refByName(sim.pool.snapshot, 'SR', 'Tiny iSCSI LUN (1 GiB, 256 MiB free)');
		await expectXapiError(client.call('pool.enable_ha', [tiny], {}), 'SR_SOURCE_SPACE_INSUFFICIENT', [tiny]);
		const iscsi = refByName(sim.pool.snapshot, 'SR', 'iSCSI heartbeat LUN');
		await expectXapiError(client.call('pool.enable_ha', [iscsi], { timeout: '5' }), 'INVALID_VALUE', ['timeout', '5']);
		await expectXapiError(client.call('pool.disable_ha'), 'HA_NOT_ENABLED', []);
	});

	it('enables HA as a task with progress, creating the statefile and metadata VDIs, then disables keeping them', async () => {
		const iscsi = refByName(sim.pool.snapshot, 'SR', 'iSCSI heartbeat LUN');
		const task = await client.call<string>('Async.pool.enable_ha', [iscsi], { timeout: '30' });
		expect(task).toMatch(/^OpaqueRef:/);
		const seen: number[] = [];
		let status = 'pending';
		while (status === 'pending') {
			const record = await client.call<{ status: string; progress: number; name_label: string }>('task.get_record', task);
			expect(record.name_label).toBe('Async.pool.enable_ha');
			seen.push(record.progress);
			status = record.status;
			await new Promise((resolve) => setTimeout(resolve, 2));
		}
		expect(status).toBe('success');
		expect(await client.call('task.get_progress', task)).toBe(1);
		expect(seen.some((p) => p > 0 && p < 1)).toBe(true);
		const pool = Object.values(await client.getAllRecords('pool'))[0];
		expect(pool?.ha_enabled).toBe(true);
		expect(pool?.ha_configuration).toEqual({ timeout: '30' });
		const [statefile] = pool?.ha_statefiles ?? [];
		const vdis = await client.getAllRecords('VDI');
		expect(vdis[statefile ?? '']?.type).toBe('ha_statefile');
		expect(Object.values(vdis).filter((v) => v.SR === iscsi && v.type === 'redo_log')).toHaveLength(1);
		await expectXapiError(client.call('pool.enable_ha', [iscsi], {}), 'HA_IS_ENABLED', []);
		await expectXapiError(client.call('pool.designate_new_master', refByName(sim.pool.snapshot, 'host', 'mix-host-2')), 'HA_IS_ENABLED', []);

		await client.call('task.destroy', task);
		await expectXapiError(client.call('task.get_record', task), 'HANDLE_INVALID', ['task', task]);
		await client.call('pool.disable_ha');
		const after = Object.values(await client.getAllRecords('pool'))[0];
		expect(after?.ha_enabled).toBe(false);
		expect(after?.ha_statefiles).toEqual([statefile]);
		// Enabling again reuses the same VDIs.
		await client.call('pool.enable_ha', [iscsi], {});
		expect(Object.values(await client.getAllRecords('VDI')).filter((v) => v.SR === iscsi && v.type === 'ha_statefile')).toHaveLength(1);
	});

	it('refuses to protect a non-agile VM while HA is on', async () => {
		const vm = refByName(sim.pool.snapshot, 'VM', 'cad-workstation (vGPU)');
		await expectXapiError(client.call('VM.set_ha_restart_priority', vm, 'restart'), 'HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN');
		expect(sim.pool.snapshot.VM[vm]?.ha_restart_priority).toBe('');
	});

	it('reports a failed task with its error_info', async () => {
		const tiny = refByName(sim.pool.snapshot, 'SR', 'Tiny iSCSI LUN (1 GiB, 256 MiB free)');
		const task = await client.call<string>('Async.SR.assert_can_host_ha_statefile', tiny);
		await waitFor('task to fail', () => sim.pool.snapshot.task[task]?.status === 'failure');
		expect(await client.call('task.get_error_info', task)).toEqual(['SR_SOURCE_SPACE_INSUFFICIENT', tiny]);
		expect(await client.call('task.get_status', task)).toBe('failure');
		await expectXapiError(client.call('task.cancel', task), 'OPERATION_NOT_ALLOWED');
	});
});

describe('planning answers', () => {
	let sim: RunningSimulatedPool;
	let client: XapiClient;
	beforeAll(async () => {
		sim = await startSim();
		client = await jsonClient(sim, 'operator');
	});
	afterAll(() => sim.stop());

	it('computes tolerance, hypothetical tolerance, a failover plan and plan existence', async () => {
		const snap = sim.pool.snapshot;
		expect(await client.call('pool.ha_compute_max_host_failures_to_tolerate')).toBe(3); // nothing protected: every live host
		const big = ['db-primary', 'db-replica', 'mail', 'app-1', 'app-2', 'web-1', 'web-2', 'monitoring'];
		const config = Object.fromEntries(big.map((n) => [refByName(snap, 'VM', n), 'restart']));
		const hypothetical = await client.call<number>('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', config);
		expect(hypothetical).toBeGreaterThanOrEqual(0);
		expect(hypothetical).toBeLessThan(3);
		await expectXapiError(client.call('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', { 'OpaqueRef:nope': 'restart' }), 'HANDLE_INVALID', ['VM', 'OpaqueRef:nope']);
		expect(await client.call('pool.ha_failover_plan_exists', 1)).toBe(true);

		const host1 = refByName(snap, 'host', 'xcp-host-1');
		const vms = ['db-primary', 'web-1', 'backup-agent'].map((n) => refByName(snap, 'VM', n));
		const plan = await client.call<Record<string, { host?: string; error_code?: string }>>('pool.ha_compute_vm_failover_plan', [host1], vms);
		expect(plan[vms[0] ?? '']?.host).toMatch(/^OpaqueRef:/);
		expect(plan[vms[0] ?? '']?.host).not.toBe(host1);
		// One implementation of the rules: the pool answers exactly what Haven's planner does.
		expect(plan).toEqual(toolstackFailoverPlan(snap, [host1], vms));
		expect(await client.call('pool.ha_compute_max_host_failures_to_tolerate')).toBe(toolstackMaxFailuresToTolerate(snap));
	});

	it('checks the restart-priority, order and start-delay setters', async () => {
		const vm = refByName(sim.pool.snapshot, 'VM', 'web-2');
		await expectXapiError(client.call('VM.set_ha_restart_priority', vm, 'always'), 'INVALID_VALUE', ['ha_restart_priority', 'always']);
		await client.call('VM.set_ha_restart_priority', vm, 'restart');
		await client.call('VM.set_order', vm, 2);
		await client.call('VM.set_start_delay', vm, 15);
		await expectXapiError(client.call('VM.set_order', vm, -1), 'INVALID_VALUE', ['order', '-1']);
		const record = await client.call<{ ha_restart_priority: string; ha_always_run: boolean; order: number; start_delay: number }>('VM.get_record', vm);
		expect(record).toMatchObject({ ha_restart_priority: 'restart', ha_always_run: true, order: 2, start_delay: 15 });
		const pool = Object.keys(sim.pool.snapshot.pool)[0];
		await expectXapiError(client.call('pool.set_ha_host_failures_to_tolerate', pool, -1), 'INVALID_VALUE', ['ha_host_failures_to_tolerate', '-1']);
	});

	it('checks VM power operations', async () => {
		const snap = sim.pool.snapshot;
		const running = refByName(snap, 'VM', 'ldap');
		const halted = refByName(snap, 'VM', 'test-vm');
		await expectXapiError(client.call('VM.start', running, false, false), 'VM_BAD_POWER_STATE', [running, 'halted', 'running']);
		// allowed_operations follows the power state, as xapi keeps it.
		expect(await client.call('VM.get_allowed_operations', running)).toContain('clean_shutdown');
		expect(await client.call('VM.get_allowed_operations', halted)).toContain('start');
		expect(await client.call('VM.get_allowed_operations', halted)).not.toContain('clean_shutdown');
		await expectXapiError(client.call('VM.clean_shutdown', halted), 'VM_BAD_POWER_STATE', [halted, 'running', 'halted']);
		const host3 = refByName(snap, 'host', 'xcp-host-3');
		// build-cache's disk is on host 2's local SR.
		const buildCache = refByName(snap, 'VM', 'build-cache');
		await client.call('VM.clean_shutdown', buildCache);
		expect(await client.call('VM.get_allowed_operations', buildCache)).toContain('start_on');
		const localSr = refByName(snap, 'SR', 'Local storage on xcp-host-2');
		await expectXapiError(client.call('VM.start_on', buildCache, host3, false, false), 'VM_REQUIRES_SR', [buildCache, localSr]);
		await client.call('host.disable', host3);
		await expectXapiError(client.call('VM.start_on', halted, host3, false, false), 'HOST_DISABLED', [host3]);
		await client.call('host.enable', host3);
		expect(await client.call('host.get_enabled', host3)).toBe(true);
		const reporting = refByName(snap, 'VM', 'old-reporting');
		await expectXapiError(client.call('VM.start', reporting, false, false), 'VM_BAD_POWER_STATE', [reporting, 'halted', 'suspended']);
	});

	it('refuses to start a VM no host has memory for', async () => {
		const snap = sim.pool.snapshot;
		const host3 = refByName(snap, 'host', 'xcp-host-3');
		const vm = refByName(snap, 'VM', 'test-vm');
		const record = snap.VM[vm];
		if (!record) throw new Error('test-vm missing');
		record.memory_static_max = 200 * 2 ** 30; // no host has 200 GiB
		const error = await expectXapiError(client.call('VM.start_on', vm, host3, false, false), 'HOST_NOT_ENOUGH_FREE_MEMORY');
		expect(Number(error.params[0])).toBeGreaterThan(Number(error.params[1]));
		await expectXapiError(client.call('VM.start', vm, false, false), 'HOST_NOT_ENOUGH_FREE_MEMORY');
	});

	it('moves the master with designate_new_master while HA is off, forgetting sessions', async () => {
		const host2 = refByName(sim.pool.snapshot, 'host', 'xcp-host-2');
		await client.call('pool.designate_new_master', host2);
		expect(sim.pool.masterAddress).toBe('127.0.0.2');
		const xml = xmlRpcClient('127.0.0.1', sim.port);
		expect(await xmlFail(xml, 'session.login_with_password', ['root', PASSWORD])).toEqual(['HOST_IS_SLAVE', '127.0.0.2']);
		// Sessions are not in the database the new master starts from.
		await waitFor('sessions forgotten', () => sim.pool.sessions.size === 0);
		await expectXapiError(client.call('pool.get_all'), 'SESSION_INVALID');
		await client.login('operator', PASSWORD);
		expect(client.baseUrl.hostname).toBe('127.0.0.2');
		await client.call('pool.designate_new_master', refByName(sim.pool.snapshot, 'host', 'xcp-host-1'));
		expect(sim.pool.masterAddress).toBe('127.0.0.1');

		// A session's calls on a slave are served while the master can be reached, not after.
		const session = (await xmlOk(xml, 'session.login_with_password', ['root', PASSWORD])) as string;
		const onSlave = xmlRpcClient('127.0.0.3', sim.port);
		expect(await xmlOk(onSlave, 'pool.get_all', [session])).toHaveLength(1);
		await control(sim, 'master/fail');
		expect(await xmlFail(onSlave, 'pool.get_all', [session])).toEqual(['CANNOT_CONTACT_HOST', sim.pool.masterRef]);
		await control(sim, 'hosts/127.0.0.1/recover');
	});
});

describe('licence', () => {
	it('refuses enable_ha on an unlicensed pool with LICENCE_RESTRICTION ["XHA"]', async () => {
		const sim = await startSim({ scenario: 'unlicensed' });
		try {
			const client = await jsonClient(sim, 'operator');
			const nfs = refByName(sim.pool.snapshot, 'SR', 'NFS shared storage');
			await expectXapiError(client.call('pool.enable_ha', [nfs], {}), 'LICENCE_RESTRICTION', ['XHA']);
			expect(Object.values(sim.pool.snapshot.pool)[0]?.ha_enabled).toBe(false);
		} finally {
			await sim.stop();
		}
	});
});

describe('events and messages', () => {
	let sim: RunningSimulatedPool;
	let client: XapiClient;
	beforeAll(async () => {
		sim = await startSim();
		client = await jsonClient(sim);
	});
	afterAll(() => sim.stop());

	interface EventFrom {
		events: { id: string; class: string; operation: string; ref: string; snapshot?: Record<string, unknown> }[];
		valid_ref_counts: Record<string, number>;
		token: string;
	}

	it('returns current objects as add events for an empty token, then only changes', async () => {
		const first = await client.call<EventFrom>('event.from', ['host', 'vm'], '', 5);
		expect(first.events.filter((e) => e.class === 'host')).toHaveLength(3);
		expect(first.events.filter((e) => e.class === 'vm')).toHaveLength(Object.keys(sim.pool.snapshot.VM).length);
		expect(first.events.every((e) => e.operation === 'add' && e.snapshot)).toBe(true);
		expect(first.valid_ref_counts['vm']).toBe(Object.keys(sim.pool.snapshot.VM).length);
		expect(first.token).toMatch(/^\d{20},\d{20}$/);

		const vm = refByName(sim.pool.snapshot, 'VM', 'web-1');
		const waiting = client.call<EventFrom>('event.from', ['vm'], first.token, 10);
		await new Promise((resolve) => setTimeout(resolve, 50));
		await client.call('VM.set_order', vm, 1);
		const next = await waiting;
		expect(next.events).toHaveLength(1);
		expect(next.events[0]).toMatchObject({ class: 'vm', operation: 'mod', ref: vm, snapshot: { order: 1 } });
		expect(next.token > first.token).toBe(true);

		// Nothing changes: the call returns empty after its timeout, with the same token.
		const idle = await client.call<EventFrom>('event.from', ['vm'], next.token, 0.05);
		expect(idle.events).toEqual([]);
		expect(idle.token).toBe(next.token);
	});

	it('reports tasks and messages as classes, injects events, and rejects bad tokens', async () => {
		const start = await client.call<EventFrom>('event.from', ['task'], '', 0);
		const task = await client.call<string>('Async.pool.ha_compute_max_host_failures_to_tolerate');
		const seen = await client.call<EventFrom>('event.from', ['task'], start.token, 5);
		expect(seen.events.some((e) => e.ref === task && e.operation === 'add')).toBe(true);
		await waitFor('task done', () => sim.pool.snapshot.task[task]?.status === 'success');
		expect(await client.call('task.get_result', task)).toBe('<value>3</value>');

		const pool = Object.keys(sim.pool.snapshot.pool)[0] ?? '';
		const before = await client.call<EventFrom>('event.from', ['pool'], '', 0);
		const injected = await client.call<string>('event.inject', 'pool', pool);
		expect(injected).toMatch(/^\d{20},\d{20}$/);
		const after = await client.call<EventFrom>('event.from', ['pool'], before.token, 5);
		expect(after.events.map((e) => [e.class, e.operation, e.ref])).toEqual([['pool', 'mod', pool]]);
		await expectXapiError(client.call('event.inject', 'vm', pool), 'HANDLE_INVALID', ['vm', pool]);
		await expectXapiError(client.call('event.from', ['vm'], 'garbage', 1), 'EVENT_FROM_TOKEN_PARSE_FAILURE', ['garbage']);
	});

	it('cancels a cancellable task, which ends cancelled with TASK_CANCELLED', async () => {
		// At real speed, so the cancel surely arrives while the task is queued.
		const slow = await startSim({ speed: 1 });
		try {
			const c = await jsonClient(slow);
			const vm = refByName(slow.pool.snapshot, 'VM', 'web-2');
			const task = await c.call<string>('Async.VM.clean_shutdown', vm);
			expect(await c.call('task.get_allowed_operations', task)).toEqual(['cancel']);
			await c.call('task.cancel', task);
			await waitFor('task cancelled', () => slow.pool.snapshot.task[task]?.status === 'cancelled');
			expect(await c.call('task.get_error_info', task)).toEqual(['TASK_CANCELLED', task]);
			expect(slow.pool.snapshot.VM[vm]?.power_state).toBe('Running');
		} finally {
			await slow.stop();
		}
	});

	it('lists HA messages with message.get_all_records', async () => {
		await control(sim, 'hosts/xcp-host-3/fail');
		await control(sim, 'clock', { advanceSeconds: 61 });
		const messages = await client.call<Record<string, { name: string; cls: string; obj_uuid: string; priority: number; timestamp: string; body: string }>>('message.get_all_records');
		const failed = Object.values(messages).find((m) => m.name === 'HA_HOST_FAILED');
		expect(failed).toBeUndefined(); // HA is off: the host is only marked not live
		expect(sim.pool.snapshot.host_metrics[sim.pool.snapshot.host[refByName(sim.pool.snapshot, 'host', 'xcp-host-3')]?.metrics ?? '']?.live).toBe(false);
		await control(sim, 'hosts/xcp-host-3/recover');
	});
});

describe('scenarios', () => {
	it('serves the large pool (64 hosts, 4,000 VMs)', async () => {
		const sim = await startSim({ scenario: 'large' });
		try {
			const client = await jsonClient(sim, 'helpdesk');
			const hosts = await client.getAllRecords('host');
			expect(Object.keys(hosts)).toHaveLength(64);
			const vms = Object.values(await client.getAllRecords('VM')).filter((v) => !v.is_control_domain);
			expect(vms).toHaveLength(4000);
			const pool = Object.values(await client.getAllRecords('pool'))[0];
			expect(pool?.ha_enabled).toBe(true);
			expect(pool?.ha_overcommitted).toBe(false);
		} finally {
			await sim.stop();
		}
	});

	it('flags the overcommitted pool from the start', async () => {
		const sim = await startSim({ scenario: 'overcommitted' });
		try {
			const client = await jsonClient(sim, 'operator');
			const pool = Object.values(await client.getAllRecords('pool'))[0];
			expect(pool).toMatchObject({ ha_enabled: true, ha_overcommitted: true, ha_allow_overcommit: true, ha_host_failures_to_tolerate: 2 });
			expect(pool?.ha_plan_exists_for).toBe(await client.call('pool.ha_compute_max_host_failures_to_tolerate'));
			expect(pool?.ha_plan_exists_for).toBeLessThan(2);
		} finally {
			await sim.stop();
		}
	});
});
