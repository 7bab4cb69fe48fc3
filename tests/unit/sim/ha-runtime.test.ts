/**
 * The HA runtime on a fast clock (1,000 simulated seconds per real second, so the 60 s
 * heartbeat timeout takes 60 ms): host failures, fencing, master failover with Haven's client
 * reconnecting, restart order and delays, overcommit, and the statefile.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { planExistsFor } from '../../../src/lib/xapi/sim/planning';
import { XapiClient } from '../../../src/lib/xapi/client';
import type { Ref } from '../../../src/lib/xapi/records';
import { SimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';
import { loadScenario } from '../../../src/lib/xapi/sim/scenarios';
import { jsonRpcTransport } from '../../../src/lib/xapi/transport';
import { control, messageNames, PASSWORD, refByName, startSim, waitFor, xmlFail, xmlRpcClient } from './helpers';

let sim: RunningSimulatedPool | undefined;
afterEach(async () => {
	await sim?.stop();
	sim = undefined;
});

async function operatorClient(s: RunningSimulatedPool): Promise<XapiClient> {
	const client = new XapiClient({
		address: s.address,
		transport: (url) => jsonRpcTransport(url.toString(), { timeoutMs: 5_000 }),
		credentials: () => ({ user: 'operator', password: PASSWORD }),
		probeTimeoutMs: 1_000
	});
	await client.login();
	client.setMemberAddresses(s.pool.hostAddresses);
	return client;
}

async function protect(client: XapiClient, s: RunningSimulatedPool, settings: Record<string, { priority: string; order?: number; delay?: number }>): Promise<void> {
	for (const [name, { priority, order, delay }] of Object.entries(settings)) {
		const vm = refByName(s.pool.snapshot, 'VM', name);
		await client.call('VM.set_ha_restart_priority', vm, priority);
		if (order !== undefined) await client.call('VM.set_order', vm, order);
		if (delay !== undefined) await client.call('VM.set_start_delay', vm, delay);
	}
}

async function enableHa(client: XapiClient, s: RunningSimulatedPool, ntol: number): Promise<void> {
	await client.call('pool.enable_ha', [refByName(s.pool.snapshot, 'SR', 'iSCSI shared storage')], {});
	await client.call('pool.set_ha_host_failures_to_tolerate', s.pool.poolRef, ntol);
}

function vm(s: RunningSimulatedPool, name: string) {
	const record = s.pool.snapshot.VM[refByName(s.pool.snapshot, 'VM', name)];
	if (!record) throw new Error(`no VM ${name}`);
	return record;
}

/** Simulated epoch seconds of a VM's last start (VM_metrics.start_time). */
function startedAt(s: RunningSimulatedPool, name: string): number {
	const iso = s.pool.snapshot.VM_metrics[vm(s, name).metrics]?.start_time ?? '';
	const m = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/.exec(iso);
	if (!m) throw new Error(`bad start_time ${iso}`);
	return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
}

function live(s: RunningSimulatedPool, host: Ref): boolean {
	return s.pool.snapshot.host_metrics[s.pool.snapshot.host[host]?.metrics ?? '']?.live === true;
}

describe('a host failure with HA on', () => {
	it('ends with every protected VM running elsewhere, by order group, honouring start_delay', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		await protect(client, s, {
			'app-1': { priority: 'restart', order: 0, delay: 30 },
			ldap: { priority: 'restart', order: 1 },
			'app-2': { priority: 'best-effort' }
		});
		await enableHa(client, s, 1);
		const host3 = refByName(s.pool.snapshot, 'host', 'xcp-host-3');
		const events = await client.call<{ token: string }>('event.from', ['vm'], '', 0);

		const state = await control(s, 'hosts/xcp-host-3/fail');
		expect((state['hosts'] as { name: string; condition: string }[]).find((h) => h.name === 'xcp-host-3')?.condition).toBe('down');
		// The dead host stops answering at once.
		await expect(fetch(`http://127.0.0.3:${s.port}/jsonrpc`, { method: 'POST', body: '{}' })).rejects.toThrow();

		await waitFor('protected and best-effort VMs back elsewhere', () => ['app-1', 'ldap', 'app-2'].every((n) => vm(s, n).power_state === 'Running' && vm(s, n).resident_on !== host3));
		for (const name of ['app-1', 'ldap', 'app-2']) expect(vm(s, name).resident_on).not.toBe(host3);
		expect(live(s, host3)).toBe(false);
		expect(s.pool.snapshot.host[host3]?.resident_VMs.every((r) => s.pool.snapshot.VM[r]?.is_control_domain)).toBe(true);
		expect(messageNames(s.pool.snapshot)).toContain('HA_HOST_FAILED');
		// Order 0 first; order 1 only after order 0's 30 s start_delay; best-effort last.
		expect(startedAt(s, 'ldap') - startedAt(s, 'app-1')).toBeGreaterThanOrEqual(30);
		expect(startedAt(s, 'app-2')).toBeGreaterThanOrEqual(startedAt(s, 'ldap'));

		// Watchers saw the same sequence through event.from.
		const changes = await client.call<{ events: { ref: string; snapshot?: { power_state: string; name_label: string } }[] }>('event.from', ['vm'], events.token, 1);
		const runningOrder = changes.events.filter((e) => e.snapshot?.power_state === 'Running').map((e) => e.snapshot?.name_label);
		expect(runningOrder.filter((n) => ['app-1', 'ldap', 'app-2'].includes(n ?? ''))).toEqual(['app-1', 'ldap', 'app-2']);
		// An unprotected VM stays halted.
		const halted = s.pool.snapshot.message;
		expect(Object.values(halted).some((m) => m.name === 'HA_PROTECTED_VM_RESTART_FAILED')).toBe(false);
	});

	it('fences an isolated host, restarts its VMs, and takes it back as a slave', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		await protect(client, s, { 'db-replica': { priority: 'restart' } });
		await enableHa(client, s, 1);
		const host2 = refByName(s.pool.snapshot, 'host', 'xcp-host-2');
		await control(s, 'hosts/xcp-host-2/isolate');
		await waitFor('db-replica restarted', () => vm(s, 'db-replica').power_state === 'Running' && vm(s, 'db-replica').resident_on !== host2);
		const state = await control(s, 'state');
		expect((state['hosts'] as { name: string; condition: string }[]).find((h) => h.name === 'xcp-host-2')?.condition).toBe('fenced');
		expect(vm(s, 'web-2').power_state).toBe('Halted'); // unprotected: died with the fenced host

		await control(s, 'hosts/xcp-host-2/recover');
		expect(live(s, host2)).toBe(true);
		expect(messageNames(s.pool.snapshot)).toContain('HA_HOST_WAS_FENCED');
		const slave = xmlRpcClient('127.0.0.2', s.port);
		expect(await xmlFail(slave, 'session.login_with_password', ['root', PASSWORD])).toEqual(['HOST_IS_SLAVE', '127.0.0.1']);
	});

	it('raises HA_PROTECTED_VM_RESTART_FAILED when a protected VM fits nowhere, and retries after 120 s', async () => {
		sim = await startSim({ scenario: 'overcommitted' });
		const s = sim;
		await control(s, 'hosts/oc-host-3/fail');
		await control(s, 'hosts/oc-host-4/fail');
		await control(s, 'clock', { advanceSeconds: 61 });
		await control(s, 'settle');
		expect(messageNames(s.pool.snapshot)).toContain('HA_PROTECTED_VM_RESTART_FAILED');
		const stranded = Object.values(s.pool.snapshot.VM).filter((v) => v.ha_restart_priority === 'restart' && v.power_state === 'Halted');
		expect(stranded.length).toBeGreaterThan(0);
		// Capacity comes back: the next retry (≥ 120 s later) places them.
		await control(s, 'hosts/oc-host-3/recover');
		await control(s, 'hosts/oc-host-4/recover');
		await control(s, 'clock', { advanceSeconds: 121 });
		await control(s, 'settle');
		await waitFor('stranded VMs restarted', () => stranded.every((v) => v.power_state === 'Running'));
	});
});

describe('at scale', () => {
	it('restarts a failed host\'s protected VMs in the 64-host, 4,000-VM pool', async () => {
		const pool = new SimulatedPool(loadScenario('large'), { password: PASSWORD, speed: 1000 });
		try {
			const host = Object.keys(pool.snapshot.host)[5] ?? '';
			const protectedOnHost = (pool.snapshot.host[host]?.resident_VMs ?? []).filter((r) => pool.snapshot.VM[r]?.ha_restart_priority === 'restart');
			expect(protectedOnHost.length).toBeGreaterThan(0);
			pool.runtime.failHost(host);
			pool.clock.advance(61);
			await pool.runtime.settled();
			for (const r of protectedOnHost) {
				expect(pool.snapshot.VM[r]?.power_state).toBe('Running');
				expect(pool.snapshot.VM[r]?.resident_on).not.toBe(host);
			}
			expect(pool.poolRecord.ha_overcommitted).toBe(false);
		} finally {
			pool.stop();
		}
	});
});

describe('a master failure with HA on', () => {
	it('ends with a new master, and Haven\'s client reconnected to it', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		const changes: string[] = [];
		const watched = new XapiClient({
			address: s.address,
			transport: (url) => jsonRpcTransport(url.toString(), { timeoutMs: 5_000 }),
			credentials: () => ({ user: 'helpdesk', password: PASSWORD }),
			memberAddresses: s.pool.hostAddresses,
			onMasterChange: (url) => changes.push(url.hostname),
			probeTimeoutMs: 1_000
		});
		await watched.login();
		await protect(client, s, { 'db-primary': { priority: 'restart' } });
		await enableHa(client, s, 1);
		const oldMaster = s.pool.masterRef;

		await control(s, 'master/fail');
		await expect(fetch(`http://127.0.0.1:${s.port}/jsonrpc`, { method: 'POST', body: '{}' })).rejects.toThrow();
		await waitFor('a new master', () => s.pool.masterRef !== oldMaster);
		expect(s.pool.masterAddress).toBe('127.0.0.2');
		expect(messageNames(s.pool.snapshot)).toEqual(expect.arrayContaining(['HA_HOST_FAILED', 'POOL_MASTER_TRANSITION']));

		// The client's session died with the old master; it finds the new one and logs in again.
		const pools = await watched.getAllRecords('pool');
		expect(Object.values(pools)[0]?.master).toBe(s.pool.masterRef);
		expect(watched.baseUrl.hostname).toBe('127.0.0.2');
		expect(changes).toContain('127.0.0.2');
		await waitFor('db-primary restarted', () => vm(s, 'db-primary').power_state === 'Running');
		expect(vm(s, 'db-primary').resident_on).not.toBe(oldMaster);

		// The old master comes back as a slave of the new one.
		await control(s, 'hosts/xcp-host-1/recover');
		const old = xmlRpcClient('127.0.0.1', s.port);
		expect(await xmlFail(old, 'session.login_with_password', ['root', PASSWORD])).toEqual(['HOST_IS_SLAVE', '127.0.0.2']);
	});

	it('fences an isolated master, and the survivors elect a new one', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		await enableHa(client, s, 1);
		await control(s, 'hosts/xcp-host-1/isolate');
		await waitFor('a new master', () => s.pool.masterAddress === '127.0.0.2');
		const state = await control(s, 'state');
		expect((state['hosts'] as { condition: string }[]).map((h) => h.condition)).toEqual(['fenced', 'up', 'up']);
		const slave = xmlRpcClient('127.0.0.3', s.port);
		expect(await xmlFail(slave, 'session.login_with_password', ['root', PASSWORD])).toEqual(['HOST_IS_SLAVE', '127.0.0.2']);
	});

	it('is not replaced while HA is off: members keep naming the dead master', async () => {
		sim = await startSim();
		const s = sim;
		await control(s, 'master/fail');
		await control(s, 'clock', { advanceSeconds: 120 });
		expect(s.pool.masterAddress).toBe('127.0.0.1');
		const slave = xmlRpcClient('127.0.0.2', s.port);
		expect(await xmlFail(slave, 'session.login_with_password', ['root', PASSWORD])).toEqual(['HOST_IS_SLAVE', '127.0.0.1']);
		expect(vm(s, 'db-primary').power_state).toBe('Running'); // nobody knows better
	});
});

describe('a host coming back', () => {
	it('comes back rebooted after a power loss: its VMs are Halted, with HA off too', async () => {
		sim = await startSim();
		const s = sim;
		await control(s, 'hosts/xcp-host-3/fail');
		await control(s, 'clock', { advanceSeconds: 61 });
		expect(vm(s, 'ldap').power_state).toBe('Running'); // HA off: nobody knows better yet
		await control(s, 'hosts/xcp-host-3/recover');
		expect(live(s, refByName(s.pool.snapshot, 'host', 'xcp-host-3'))).toBe(true);
		expect(['app-1', 'app-2', 'ldap'].map((n) => vm(s, n).power_state)).toEqual(['Halted', 'Halted', 'Halted']);
	});

	it('settles a power loss first even when power returns before the timeout', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		await protect(client, s, { ldap: { priority: 'restart' } });
		await enableHa(client, s, 1);
		await control(s, 'hosts/xcp-host-3/fail');
		await control(s, 'hosts/xcp-host-3/recover');
		await control(s, 'settle');
		expect(messageNames(s.pool.snapshot)).toContain('HA_HOST_FAILED');
		expect(vm(s, 'ldap').power_state).toBe('Running');
		expect(vm(s, 'app-1').power_state).toBe('Halted');
	});

	it('shrugs off a network cut shorter than the timeout', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		await enableHa(client, s, 1);
		await control(s, 'clock', { speed: 1 }); // the 60 s timeout now really takes 60 s
		await control(s, 'hosts/xcp-host-3/isolate');
		await control(s, 'hosts/xcp-host-3/recover');
		expect(vm(s, 'ldap').power_state).toBe('Running');
		expect(messageNames(s.pool.snapshot)).not.toContain('HA_HOST_FAILED');
	});
});

describe('overcommitment', () => {
	it('flags the pool when a failure shrinks the plan below the configured tolerance', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		const names = ['db-primary', 'db-replica', 'mail', 'app-1', 'app-2'];
		await protect(client, s, Object.fromEntries(names.map((n) => [n, { priority: 'restart' }])));
		expect(planExistsFor(s.pool.snapshot, 1)).toBe(true);
		await enableHa(client, s, 1);
		expect(s.pool.poolRecord).toMatchObject({ ha_plan_exists_for: 1, ha_overcommitted: false });
		// Without overcommit allowed the pool refuses a tolerance its plan cannot cover.
		await expect(client.call('pool.set_ha_host_failures_to_tolerate', s.pool.poolRef, 3)).rejects.toMatchObject({ code: 'HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN' });

		await control(s, 'hosts/xcp-host-3/fail');
		await waitFor('pool flagged', () => s.pool.poolRecord.ha_overcommitted);
		await control(s, 'settle');
		const pool = Object.values(await client.getAllRecords('pool'))[0];
		expect(pool).toMatchObject({ ha_overcommitted: true, ha_host_failures_to_tolerate: 1, ha_plan_exists_for: 0 });
		expect(messageNames(s.pool.snapshot)).toEqual(expect.arrayContaining(['HA_POOL_DROP_IN_PLAN_EXISTS_FOR', 'HA_POOL_OVERCOMMITTED']));

		// The host comes back: the plan covers the tolerance again.
		await control(s, 'hosts/xcp-host-3/recover');
		expect(s.pool.poolRecord).toMatchObject({ ha_overcommitted: false, ha_plan_exists_for: 1 });
	});
});

describe('the plan guard', () => {
	it('refuses changes that would break the failover plan unless overcommit is allowed; emergency_ha_disable turns HA off', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		const names = ['db-primary', 'db-replica', 'mail', 'app-1', 'app-2'];
		await protect(client, s, Object.fromEntries(names.map((n) => [n, { priority: 'restart' }])));
		await enableHa(client, s, 1);
		const host3 = refByName(s.pool.snapshot, 'host', 'xcp-host-3');
		// Disabling a host leaves two: the plan for one failure would vanish.
		await expect(client.call('host.disable', host3)).rejects.toMatchObject({ code: 'HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN' });
		expect(s.pool.snapshot.host[host3]?.enabled).toBe(true);
		// So would protecting a VM pinned to one host by its local disk.
		const pinned = refByName(s.pool.snapshot, 'VM', 'build-cache');
		await expect(client.call('VM.set_ha_restart_priority', pinned, 'restart')).rejects.toMatchObject({ code: 'HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN' });

		// A plain field setter needs pool-admin (the datamodel's default writer role).
		await expect(client.call('pool.set_ha_allow_overcommit', s.pool.poolRef, true)).rejects.toMatchObject({ code: 'RBAC_PERMISSION_DENIED' });
		const admin = new XapiClient({ address: s.address, transport: (url) => jsonRpcTransport(url.toString()) });
		await admin.login('admin', PASSWORD);
		await admin.call('pool.set_ha_allow_overcommit', s.pool.poolRef, true);
		await client.call('host.disable', host3);
		expect(s.pool.poolRecord).toMatchObject({ ha_overcommitted: true, ha_plan_exists_for: 0 });
		expect(messageNames(s.pool.snapshot)).toContain('HA_POOL_OVERCOMMITTED');

		await client.call('host.emergency_ha_disable');
		expect(s.pool.poolRecord.ha_enabled).toBe(false);
		await expect(client.call('host.emergency_ha_disable')).rejects.toMatchObject({ code: 'HA_NOT_ENABLED' });
		expect(await client.call('host.emergency_ha_disable', true)).toBe('');
	});
});

describe('enabling HA', () => {
	it('runs one enable at a time, and undoes it when a host fails midway', async () => {
		sim = await startSim({ speed: 20 }); // 9 simulated seconds of work take about half a second
		const s = sim;
		const client = await operatorClient(s);
		const sr = refByName(s.pool.snapshot, 'SR', 'iSCSI shared storage');
		const first = await client.call<string>('Async.pool.enable_ha', [sr], {});
		await waitFor('enable under way', () => (s.pool.snapshot.task[first]?.progress ?? 0) > 0);
		const second = await client.call<string>('Async.pool.enable_ha', [sr], {});
		await waitFor('second enable refused', () => s.pool.snapshot.task[second]?.status === 'failure');
		expect(s.pool.snapshot.task[second]?.error_info).toEqual(['OTHER_OPERATION_IN_PROGRESS', 'pool', s.pool.poolRef]);

		await control(s, 'hosts/xcp-host-3/fail');
		await waitFor('first enable failed', () => s.pool.snapshot.task[first]?.status === 'failure');
		const host3 = refByName(s.pool.snapshot, 'host', 'xcp-host-3');
		expect(s.pool.snapshot.task[first]?.error_info).toEqual(['HOST_OFFLINE', host3]);
		expect(s.pool.poolRecord).toMatchObject({ ha_enabled: false, ha_statefiles: [] });
		expect(Object.values(s.pool.snapshot.host).every((h) => h.ha_statefiles.length === 0)).toBe(true);
	});
});

describe('the heartbeat statefile', () => {
	it('raises HA_STATEFILE_LOST, and without it a minority partition fences', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		await enableHa(client, s, 1);
		await control(s, 'statefile/break');
		expect(messageNames(s.pool.snapshot)).toContain('HA_STATEFILE_LOST');
		expect(Object.values(s.pool.snapshot.host).every((h) => h.ha_statefiles.length === 0)).toBe(true);
		// One failure: two of three hosts remain, a majority: the pool survives.
		await control(s, 'hosts/xcp-host-3/fail');
		await control(s, 'clock', { advanceSeconds: 61 });
		let state = await control(s, 'state');
		expect((state['hosts'] as { condition: string }[]).map((h) => h.condition)).toEqual(['up', 'up', 'down']);
		// A second: the last host alone is no majority and fences too.
		await control(s, 'hosts/xcp-host-2/fail');
		await control(s, 'clock', { advanceSeconds: 61 });
		state = await control(s, 'state');
		expect((state['hosts'] as { condition: string }[]).map((h) => h.condition)).toEqual(['fenced', 'down', 'down']);
		await control(s, 'statefile/repair');
		await control(s, 'hosts/xcp-host-1/recover');
		expect(s.pool.runtime.masterReachable).toBe(true);
	});
});

describe('the control endpoint', () => {
	it('resets the pool to its scenario, faults and all, keeping sessions', async () => {
		sim = await startSim();
		const s = sim;
		const client = await operatorClient(s);
		await protect(client, s, { 'db-primary': { priority: 'restart' } });
		await enableHa(client, s, 1);
		await control(s, 'statefile/break');
		await control(s, 'hosts/xcp-host-3/isolate');
		await control(s, 'hosts/xcp-host-2/fail');
		const state = await control(s, 'reset');
		expect((state['hosts'] as { condition: string; live: boolean }[]).map((h) => [h.condition, h.live])).toEqual([
			['up', true],
			['up', true],
			['up', true]
		]);
		expect(state['ha']).toMatchObject({ enabled: false, statefileOk: true });
		expect(Object.keys(s.pool.snapshot.message)).toHaveLength(0);
		expect(vm(s, 'db-primary').ha_restart_priority).toBe('');
		// Nothing pending fires later, every endpoint answers, and the session still works.
		await control(s, 'clock', { advanceSeconds: 600 });
		expect(messageNames(s.pool.snapshot)).toEqual([]);
		const slave = xmlRpcClient('127.0.0.3', s.port);
		expect(await xmlFail(slave, 'session.login_with_password', ['root', PASSWORD])).toEqual(['HOST_IS_SLAVE', '127.0.0.1']);
		expect(Object.values(await client.getAllRecords('pool'))[0]?.ha_enabled).toBe(false);
	});

	it('names unknown hosts and paths, and validates the clock body', async () => {
		sim = await startSim();
		const s = sim;
		const post = (path: string, body = '{}') => fetch(`${s.controlUrl}/control/${path}`, { method: 'POST', body });
		expect((await post('hosts/nope/fail')).status).toBe(404);
		expect(((await (await post('hosts/nope/fail')).json()) as { error: string }).error).toMatch(/no host "nope"/);
		expect((await post('hosts/xcp-host-1/explode')).status).toBe(404);
		expect((await post('clock', '{"speed": -1}')).status).toBe(400);
		expect((await post('clock', 'not json')).status).toBe(400);
		expect((await fetch(`${s.controlUrl}/control/master/fail`)).status).toBe(405);
		const state = await control(s, 'clock', { speed: 5 });
		expect((state['clock'] as { speed: number }).speed).toBe(5);
		// Also answered on a live host endpoint, by address.
		const viaHost = await fetch(`${s.url}/control/state`);
		expect(viaHost.status).toBe(200);
	});
});
