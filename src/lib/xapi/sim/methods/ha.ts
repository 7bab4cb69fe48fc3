/**
 * Pool-level HA methods and the heartbeat SR check, with xapi's checks in xapi's order
 * (xapi_ha.ml `enable`, xha_statefile.ml, xapi_pool.ml).
 */
import { randomUUID } from 'node:crypto';
import { XapiCode } from '../../codes';
import { XapiError } from '../../errors';
import type { Ref, VDIRecord } from '../../records';
import { bool, int, ref, refList, stringMap } from '../args';
import { MIN_HA_TIMEOUT_S } from '../ha-runtime';
import { planExistsFor, toolstackFailoverPlan, toolstackMaxFailuresToTolerate } from '../planning';
import type { MethodContext, SimulatedPool } from '../pool';
import { MiB } from '../scenario-builder';
import { assertChangePreservesPlan } from './plan-guard';

/** SR types whose SM backend can host the statefile (VDI_GENERATE_CONFIG / VDI_ATTACH_OFFLINE). */
export const STATEFILE_SR_TYPES: readonly string[] = ['lvmoiscsi', 'lvmohba', 'lvmofcoe', 'nfs'];
/** A 4 MiB heartbeat volume plus a 256 MiB metadata volume, with the slack the seed asks for. */
export const MIN_HEARTBEAT_SR_FREE = 356 * MiB;
export const STATEFILE_SIZE = 4 * MiB;
export const METADATA_VDI_SIZE = 256 * MiB;
/** Simulated seconds per host-level step of enable/disable (xapi makes 3 API calls per host). */
const STEP_SECONDS = 1;

function existingVdi(pool: SimulatedPool, sr: Ref, type: string, minSize: number): Ref | undefined {
	return pool.snapshot.SR[sr]?.VDIs.find((v) => {
		const vdi = pool.snapshot.VDI[v];
		return vdi?.type === type && vdi.virtual_size >= minSize;
	});
}

/** Throws the reason `sr` cannot host the HA statefile, as Xha_statefile.assert_sr_can_host_statefile does. */
export function assertSrCanHostStatefile(pool: SimulatedPool, sr: Ref): void {
	const snap = pool.snapshot;
	const record = snap.SR[sr];
	if (!record) throw new XapiError(XapiCode.HANDLE_INVALID, ['SR', sr]);
	const pbds = record.PBDs.map((p) => snap.PBD[p]).filter((p) => p !== undefined);
	const connected = new Set(pbds.map((p) => p.host));
	// Every host needs a PBD, and every PBD must be plugged: both fail with SR_NO_PBDS.
	if (Object.keys(snap.host).some((h) => !connected.has(h))) throw new XapiError(XapiCode.SR_NO_PBDS, [sr]);
	if (pbds.some((p) => !p.currently_attached)) throw new XapiError(XapiCode.SR_NO_PBDS, [sr]);
	// xapi asks the SM backend for its features; a local (unshared) SR or a backend such as an
	// iso library, NetApp or EqualLogic adapter lacks them.
	if (!record.shared || !STATEFILE_SR_TYPES.includes(record.type)) throw new XapiError(XapiCode.SR_OPERATION_NOT_SUPPORTED, [sr]);
	const reusable = existingVdi(pool, sr, 'ha_statefile', STATEFILE_SIZE) && existingVdi(pool, sr, 'redo_log', METADATA_VDI_SIZE);
	if (!reusable && record.physical_size - record.physical_utilisation < MIN_HEARTBEAT_SR_FREE) {
		throw new XapiError(XapiCode.SR_SOURCE_SPACE_INSUFFICIENT, [sr]);
	}
}

function createVdi(pool: SimulatedPool, sr: Ref, name: string, description: string, type: string, size: number): Ref {
	const ref = `OpaqueRef:${randomUUID()}`;
	const vdi: VDIRecord = {
		uuid: randomUUID(),
		name_label: name,
		name_description: description,
		SR: sr,
		virtual_size: size,
		physical_utilisation: size,
		type,
		sharable: true,
		read_only: false,
		VBDs: []
	};
	pool.db.add('VDI', ref, vdi);
	const record = pool.snapshot.SR[sr];
	if (record) {
		record.VDIs.push(ref);
		record.physical_utilisation += size;
		record.virtual_allocation += size;
		pool.db.touch('SR', sr);
	}
	return ref;
}

function checkConfiguration(configuration: Record<string, string>): void {
	const timeout = configuration['timeout'];
	if (timeout === undefined) return;
	const seconds = Number(timeout);
	if (!/^\d+$/.test(timeout) || seconds < MIN_HA_TIMEOUT_S) throw new XapiError(XapiCode.INVALID_VALUE, ['timeout', timeout]);
}

async function enableHa(ctx: MethodContext, heartbeatSrs: Ref[], configuration: Record<string, string>): Promise<string> {
	const pool = ctx.pool;
	const record = pool.poolRecord;
	const snap = pool.snapshot;
	if (record.ha_enabled) throw new XapiError(XapiCode.HA_IS_ENABLED, []);
	if (record.restrictions['enable_xha'] !== 'true') throw new XapiError(XapiCode.LICENCE_RESTRICTION, ['XHA']);
	for (const [host, h] of Object.entries(snap.host)) {
		if (snap.host_metrics[h.metrics]?.live !== true || !pool.runtime.hostIsUp(host)) throw new XapiError(XapiCode.HOST_OFFLINE, [host]);
	}
	checkConfiguration(configuration);
	const candidates =
		heartbeatSrs.length > 0
			? heartbeatSrs
			: Object.keys(snap.SR).filter((sr) => {
					try {
						assertSrCanHostStatefile(pool, sr);
						return true;
					} catch {
						return false;
					}
				});
	// The xHA daemon handles one statefile: the first SR is used.
	const sr = candidates[0];
	if (!sr) throw new XapiError(XapiCode.CANNOT_CREATE_STATE_FILE, []);
	assertSrCanHostStatefile(pool, sr);
	if (!pool.runtime.statefileOk) {
		throw new XapiError(XapiCode.HA_HOST_CANNOT_ACCESS_STATEFILE, [pool.masterRef]);
	}

	const hosts = Object.keys(snap.host);
	const total = hosts.length * 3;
	let done = 0;
	const step = async () => {
		await pool.clock.sleep(STEP_SECONDS);
		done += 1;
		ctx.task?.progress(done / total);
	};

	const statefile = existingVdi(pool, sr, 'ha_statefile', STATEFILE_SIZE) ?? createVdi(pool, sr, 'Statefile for HA', 'Used for storage heartbeating', 'ha_statefile', STATEFILE_SIZE);
	// The metadata VDI (redo log) lets a new master replay the database after a failover.
	if (!existingVdi(pool, sr, 'redo_log', METADATA_VDI_SIZE)) createVdi(pool, sr, 'Metadata for HA', 'Used for master failover', 'redo_log', METADATA_VDI_SIZE);
	const before = { statefiles: record.ha_statefiles, configuration: record.ha_configuration, planExistsFor: record.ha_plan_exists_for };
	try {
		record.ha_statefiles = [statefile];
		record.ha_configuration = { ...configuration };
		record.ha_plan_exists_for = 0;
		record.ha_cluster_stack = 'xhad';
		pool.db.touch('pool', pool.poolRef);
		// Preconfigure every host (attach statefile and metadata VDI, write the config), then arm.
		for (const host of hosts) {
			await step();
			const h = snap.host[host];
			if (!h) continue;
			h.ha_statefiles = [statefile];
			h.ha_network_peers = hosts.filter((o) => o !== host).map((o) => snap.host[o]?.uuid ?? o);
			pool.db.touch('host', host);
		}
		for (let i = 0; i < hosts.length * 2; i++) await step();
		// A host may have failed while HA was being armed: xapi then aborts and undoes.
		for (const host of hosts) {
			if (!pool.runtime.hostIsUp(host)) throw new XapiError(XapiCode.HOST_OFFLINE, [host]);
		}
	} catch (e) {
		record.ha_statefiles = before.statefiles;
		record.ha_configuration = before.configuration;
		record.ha_plan_exists_for = before.planExistsFor;
		pool.db.touch('pool', pool.poolRef);
		for (const [host, h] of Object.entries(snap.host)) {
			h.ha_statefiles = [];
			h.ha_network_peers = [];
			pool.db.touch('host', host);
		}
		throw e;
	}
	record.ha_enabled = true;
	pool.db.touch('pool', pool.poolRef);
	pool.runtime.updatePoolStatus();
	return '';
}

/** One HA enable/disable at a time, as the pool's current_operations enforce. */
async function exclusively(pool: SimulatedPool, work: () => Promise<string>): Promise<string> {
	if (haOperationInProgress.has(pool)) throw new XapiError(XapiCode.OTHER_OPERATION_IN_PROGRESS, ['pool', pool.poolRef]);
	haOperationInProgress.add(pool);
	try {
		return await work();
	} finally {
		haOperationInProgress.delete(pool);
	}
}
const haOperationInProgress = new WeakSet<SimulatedPool>();

async function disableHa(ctx: MethodContext): Promise<string> {
	const pool = ctx.pool;
	const record = pool.poolRecord;
	if (!record.ha_enabled) throw new XapiError(XapiCode.HA_NOT_ENABLED, []);
	const hosts = Object.keys(pool.snapshot.host);
	let done = 0;
	for (const host of hosts) {
		await pool.clock.sleep(STEP_SECONDS);
		done += 1;
		ctx.task?.progress(done / hosts.length);
		const h = pool.snapshot.host[host];
		if (!h) continue;
		h.ha_statefiles = [];
		h.ha_network_peers = [];
		pool.db.touch('host', host);
	}
	// The statefile and metadata VDIs stay (and pool.ha_statefiles names them) for the next enable.
	record.ha_enabled = false;
	pool.db.touch('pool', pool.poolRef);
	pool.runtime.haDisabled();
	return '';
}

export function registerHaMethods(pool: SimulatedPool): void {
	const db = pool.db;
	pool.define('pool.enable_ha', {
		params: ['heartbeat_srs', 'configuration'],
		minRole: 'pool-operator',
		async: true,
		run: (ctx, [srs, configuration]) => {
			const heartbeatSrs = refList(db, 'SR', srs, 'heartbeat_srs');
			const config = stringMap(configuration, 'configuration');
			return exclusively(pool, () => enableHa(ctx, heartbeatSrs, config));
		}
	});
	pool.define('pool.disable_ha', { params: [], minRole: 'pool-operator', async: true, run: (ctx) => exclusively(pool, () => disableHa(ctx)) });

	pool.define('pool.ha_compute_max_host_failures_to_tolerate', {
		params: [],
		minRole: 'pool-operator',
		async: true,
		run: () => toolstackMaxFailuresToTolerate(pool.snapshot)
	});
	pool.define('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', {
		params: ['configuration'],
		minRole: 'read-only',
		async: true,
		run: (_ctx, [configuration]) => {
			const map = stringMap(configuration, 'configuration');
			for (const [vm, priority] of Object.entries(map)) {
				ref(db, 'VM', vm, 'configuration');
				if (!['restart', 'best-effort', ''].includes(priority)) throw new XapiError(XapiCode.INVALID_VALUE, ['ha_restart_priority', priority]);
			}
			// The map is the whole configuration: VMs it does not name count as unprotected.
			return toolstackMaxFailuresToTolerate(pool.snapshot, { priorities: map, prioritiesReplaceAll: true });
		}
	});
	pool.define('pool.ha_compute_vm_failover_plan', {
		params: ['failed_hosts', 'failed_vms'],
		minRole: 'pool-operator',
		async: true,
		run: (_ctx, [hosts, vms]) => toolstackFailoverPlan(pool.snapshot, refList(db, 'host', hosts, 'failed_hosts'), refList(db, 'VM', vms, 'failed_vms'))
	});
	pool.define('pool.ha_failover_plan_exists', {
		params: ['n'],
		minRole: 'pool-operator',
		async: true,
		run: (_ctx, [n]) => planExistsFor(pool.snapshot, int(n, 'n'))
	});
	pool.define('pool.set_ha_host_failures_to_tolerate', {
		params: ['self', 'value'],
		minRole: 'pool-operator',
		async: true,
		run: (_ctx, [self, value]) => {
			const [poolRef, record] = ref(db, 'pool', self, 'self');
			const n = int(value, 'value');
			if (n < 0) throw new XapiError(XapiCode.INVALID_VALUE, ['ha_host_failures_to_tolerate', String(n)]);
			// Changes are never blocked while no plan exists at all.
			if (record.ha_plan_exists_for > 0) assertChangePreservesPlan(pool, () => {}, n);
			record.ha_host_failures_to_tolerate = n;
			db.touch('pool', poolRef);
			pool.runtime.updatePoolStatus();
			return '';
		}
	});
	pool.define('pool.set_ha_allow_overcommit', {
		params: ['self', 'value'],
		// A plain field setter: the datamodel's default writer role, pool-admin.
		minRole: 'pool-admin',
		run: (_ctx, [self, value]) => {
			const [poolRef, record] = ref(db, 'pool', self, 'self');
			record.ha_allow_overcommit = bool(value, 'value');
			db.touch('pool', poolRef);
			return '';
		}
	});
	pool.define('SR.assert_can_host_ha_statefile', {
		params: ['sr'],
		minRole: 'pool-operator',
		async: true,
		run: (_ctx, [sr]) => {
			assertSrCanHostStatefile(pool, ref(db, 'SR', sr, 'sr')[0]);
			return '';
		}
	});
}
