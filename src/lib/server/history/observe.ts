/**
 * What the collector remembers about a pool, and the facts it derives by comparing two
 * moments. Pure: no database, no clock of its own (callers pass `now`), so the rules can be
 * tested on hand-made records.
 *
 * event.from coalesces: a VM that was halted and restarted between two polls shows up once,
 * Running on another host. A new `VM_metrics.start_time` tells a restart from a live
 * migration, so the halt is still recorded (marked inferred).
 */
import { HaMessage } from '../../xapi/codes';
import { NULL_REF, type MessageRecord, type Ref, type Snapshot } from '../../xapi/records';

export interface HostView {
	uuid: string;
	name: string;
	live: boolean;
	/** host_metrics.last_updated: when liveness last changed, in pool time (epoch ms). */
	liveChangedAt: number | null;
	memoryFree: number;
	memoryTotal: number;
}

export interface VmView {
	uuid: string;
	name: string;
	power: string;
	residentOn: Ref;
	priority: string;
	order: number;
	/** VM_metrics.start_time (epoch ms), null when unknown. */
	startedAt: number | null;
}

export interface PoolView {
	master: Ref;
	haEnabled: boolean;
	hostFailuresToTolerate: number;
	planExistsFor: number;
	overcommitted: boolean;
	haTimeoutS: number;
}

export interface View {
	pool: PoolView | null;
	hosts: Record<Ref, HostView>;
	vms: Record<Ref, VmView>;
}

export type FactKind =
	| 'ha_message'
	| 'host_dead'
	| 'host_back'
	| 'vm_halted'
	| 'vm_started'
	| 'vm_migrated'
	| 'vm_power'
	| 'master_changed'
	| 'ha_config';

export interface Fact {
	kind: FactKind;
	/** Epoch ms: the pool's own timestamp when it has one, else when we saw it. */
	at: number;
	objectClass?: 'host' | 'VM' | 'pool' | 'message';
	ref?: Ref;
	uuid?: string;
	name?: string;
	messageUuid?: string;
	detail: Record<string, unknown>;
}

/** Message names worth keeping: every HA_* alert plus master transitions. */
export function isHaMessage(name: string): boolean {
	return name.startsWith('HA_') || name === HaMessage.MASTER_CHANGED || name === HaMessage.POOL_MASTER_TRANSITION;
}

const UNSET_TIME = 0;

/** XAPI datetimes: `20261125T16:05:00Z`, ISO 8601, or seconds as text; null when unset. */
export function parseXapiTime(value: unknown): number | null {
	if (typeof value === 'number') return Number.isFinite(value) && value > UNSET_TIME ? value : null;
	if (typeof value !== 'string' || value === '') return null;
	const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
	const text = compact ? `${compact[1]}-${compact[2]}-${compact[3]}T${compact[4]}:${compact[5]}:${compact[6]}${compact[7] ?? ''}${compact[8] ?? 'Z'}` : value;
	const ms = Date.parse(text);
	// XAPI writes the epoch for "never" (19700101T00:00:00Z).
	return Number.isFinite(ms) && ms > UNSET_TIME ? ms : null;
}

export function emptyView(): View {
	return { pool: null, hosts: {}, vms: {} };
}

/** The compact view of the records the collector watches. */
export function viewOf(records: Partial<Snapshot>): View {
	const view = emptyView();
	const poolRecord = Object.values(records.pool ?? {})[0];
	if (poolRecord) {
		const timeout = Number(poolRecord.ha_configuration?.['timeout']);
		view.pool = {
			master: poolRecord.master,
			haEnabled: poolRecord.ha_enabled,
			hostFailuresToTolerate: Number(poolRecord.ha_host_failures_to_tolerate),
			planExistsFor: Number(poolRecord.ha_plan_exists_for),
			overcommitted: poolRecord.ha_overcommitted,
			haTimeoutS: Number.isFinite(timeout) && timeout >= 10 ? timeout : 60
		};
	}
	for (const [ref, host] of Object.entries(records.host ?? {})) {
		const metrics = records.host_metrics?.[host.metrics];
		view.hosts[ref] = {
			uuid: host.uuid,
			name: host.name_label,
			live: metrics?.live ?? false,
			liveChangedAt: parseXapiTime(metrics?.last_updated),
			memoryFree: Number(metrics?.memory_free ?? 0),
			memoryTotal: Number(metrics?.memory_total ?? 0)
		};
	}
	for (const [ref, vm] of Object.entries(records.VM ?? {})) {
		if (vm.is_a_template || vm.is_control_domain || vm.is_a_snapshot) continue;
		const metrics = records.VM_metrics?.[vm.metrics];
		view.vms[ref] = {
			uuid: vm.uuid,
			name: vm.name_label,
			power: vm.power_state,
			residentOn: vm.resident_on,
			priority: vm.ha_restart_priority,
			order: Number(vm.order),
			startedAt: parseXapiTime(metrics?.start_time)
		};
	}
	return view;
}

/** The HA messages among `messages`, oldest first, as facts (deduplicated later by uuid). */
export function messageFacts(messages: Record<Ref, MessageRecord>, now: number): Fact[] {
	return Object.values(messages)
		.filter((m) => isHaMessage(m.name))
		.map((m) => ({
			kind: 'ha_message' as const,
			at: parseXapiTime(m.timestamp) ?? now,
			objectClass: 'message' as const,
			uuid: m.obj_uuid,
			messageUuid: m.uuid,
			name: m.name,
			detail: { name: m.name, priority: Number(m.priority), cls: m.cls, objUuid: m.obj_uuid, body: m.body }
		}))
		.sort((a, b) => a.at - b.at);
}

const vmDetail = (vm: VmView) => ({ priority: vm.priority, order: vm.order });

/**
 * Facts that explain how `before` became `after`. `now` stands in for the pool's time where
 * the records carry none.
 */
export function diffViews(before: View, after: View, now: number): Fact[] {
	const facts: Fact[] = [];
	const hostName = (ref: Ref) => after.hosts[ref]?.name ?? before.hosts[ref]?.name ?? ref;

	for (const [ref, host] of Object.entries(after.hosts)) {
		const old = before.hosts[ref];
		if (!old || old.live === host.live) continue;
		facts.push({
			kind: host.live ? 'host_back' : 'host_dead',
			at: host.liveChangedAt ?? now,
			objectClass: 'host',
			ref,
			uuid: host.uuid,
			name: host.name,
			detail: {}
		});
	}

	if (before.pool && after.pool) {
		const [a, b] = [before.pool, after.pool];
		if (a.master !== b.master) {
			facts.push({
				kind: 'master_changed',
				at: now,
				objectClass: 'pool',
				ref: b.master,
				name: hostName(b.master),
				detail: { from: a.master, fromName: hostName(a.master), to: b.master, toName: hostName(b.master) }
			});
		}
		if (
			a.haEnabled !== b.haEnabled ||
			a.hostFailuresToTolerate !== b.hostFailuresToTolerate ||
			a.planExistsFor !== b.planExistsFor ||
			a.overcommitted !== b.overcommitted
		) {
			facts.push({
				kind: 'ha_config',
				at: now,
				objectClass: 'pool',
				detail: {
					before: { haEnabled: a.haEnabled, hostFailuresToTolerate: a.hostFailuresToTolerate, planExistsFor: a.planExistsFor, overcommitted: a.overcommitted },
					after: { haEnabled: b.haEnabled, hostFailuresToTolerate: b.hostFailuresToTolerate, planExistsFor: b.planExistsFor, overcommitted: b.overcommitted }
				}
			});
		}
	}

	for (const [ref, vm] of Object.entries(after.vms)) {
		const old = before.vms[ref];
		if (!old) continue;
		const base = { objectClass: 'VM' as const, ref, uuid: vm.uuid, name: vm.name };
		const wasRunning = old.power === 'Running' && old.residentOn !== NULL_REF;
		const isRunning = vm.power === 'Running' && vm.residentOn !== NULL_REF;
		const started = (inferredHalt: boolean) =>
			facts.push({ ...base, kind: 'vm_started', at: vm.startedAt ?? now, detail: { ...vmDetail(vm), on: vm.residentOn, onName: hostName(vm.residentOn), afterInferredHalt: inferredHalt } });
		if (wasRunning && vm.power === 'Halted') {
			facts.push({ ...base, kind: 'vm_halted', at: now, detail: { ...vmDetail(old), from: old.residentOn, fromName: hostName(old.residentOn), inferred: false } });
		} else if (!wasRunning && isRunning && old.power !== 'Paused' && old.power !== 'Suspended') {
			started(false);
		} else if (wasRunning && isRunning && old.residentOn !== vm.residentOn) {
			const restarted = vm.startedAt !== null && vm.startedAt !== old.startedAt;
			if (restarted) {
				// Halted and started again between two looks: the halt happened no later than the start.
				facts.push({
					...base,
					kind: 'vm_halted',
					at: Math.min(now, vm.startedAt ?? now),
					detail: { ...vmDetail(old), from: old.residentOn, fromName: hostName(old.residentOn), inferred: true }
				});
				started(true);
			} else {
				facts.push({ ...base, kind: 'vm_migrated', at: now, detail: { from: old.residentOn, fromName: hostName(old.residentOn), to: vm.residentOn, toName: hostName(vm.residentOn) } });
			}
		} else if (old.power !== vm.power) {
			facts.push({ ...base, kind: 'vm_power', at: now, detail: { from: old.power, to: vm.power, on: vm.residentOn, onName: hostName(vm.residentOn) } });
		}
	}
	return facts;
}

/** Memory headroom and host counts for a tolerance sample. */
export function headroom(view: View): { memoryFree: number; memoryTotal: number; liveHosts: number; hosts: number } {
	let memoryFree = 0;
	let memoryTotal = 0;
	let liveHosts = 0;
	const hosts = Object.values(view.hosts);
	for (const h of hosts) {
		if (!h.live) continue;
		liveHosts++;
		memoryFree += h.memoryFree;
		memoryTotal += h.memoryTotal;
	}
	return { memoryFree, memoryTotal, liveHosts, hosts: hosts.length };
}
