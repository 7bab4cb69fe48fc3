import { NULL_REF, type Ref, type Snapshot } from '../xapi/records';
import { AgilityChecker } from './agility';
import type { Agility, HostModel, PoolModel, Priority, PrioritySetting, VmModel, WhatIf } from './types';

/** Restart priority as the toolstack reads it; legacy "0".."3" mean restart with that order. */
export function normalisePriority(raw: string, order: number): { priority: Priority; order: number } {
	if (raw === 'restart') return { priority: 'restart', order };
	if (/^[0-3]$/.test(raw)) return { priority: 'restart', order: Number(raw) };
	if (raw === 'best-effort') return { priority: 'best-effort', order };
	return { priority: '', order };
}

export const VALID_PRIORITIES = ['restart', 'best-effort', '', '0', '1', '2', '3'] as const;

export function isValidPriority(raw: string): boolean {
	return (VALID_PRIORITIES as readonly string[]).includes(raw);
}

const isUp = (power: string) => power === 'Running' || power === 'Paused';

/** What does not depend on a what-if: agility, needs, raw host accounting. Cached per snapshot object. */
interface BaseModel {
	hosts: HostModel[];
	vms: VmModel[];
	totalHosts: number;
	haTimeout: number;
}

const baseCache = new WeakMap<Snapshot, BaseModel>();

function buildBase(snapshot: Snapshot): BaseModel {
	const cached = baseCache.get(snapshot);
	if (cached) return cached;
	const agility = new AgilityChecker(snapshot);
	const vms: VmModel[] = [];
	const footprintOn = new Map<Ref, { all: number; dom0: number; prot: number; refs: Ref[] }>();
	for (const [ref, vm] of Object.entries(snapshot.VM)) {
		if (vm.is_a_template || vm.is_a_snapshot) continue;
		const need = vm.memory_static_max + vm.memory_overhead;
		const hostRef = vm.resident_on !== NULL_REF && snapshot.host[vm.resident_on] ? vm.resident_on : vm.scheduled_to_be_resident_on !== NULL_REF && snapshot.host[vm.scheduled_to_be_resident_on] ? vm.scheduled_to_be_resident_on : null;
		const { priority, order } = normalisePriority(vm.ha_restart_priority, vm.order);
		const up = isUp(vm.power_state);
		const model: VmModel = {
			ref,
			uuid: vm.uuid,
			name: vm.name_label,
			powerState: vm.power_state,
			isControlDomain: vm.is_control_domain,
			need,
			priority,
			rawPriority: vm.ha_restart_priority,
			order,
			startDelay: vm.start_delay,
			protected: priority === 'restart' && up && !vm.is_control_domain,
			bestEffort: priority === 'best-effort' && up && !vm.is_control_domain,
			host: hostRef,
			agility: vm.is_control_domain ? { agile: true } : agility.check(ref)
		};
		vms.push(model);
		if (hostRef) {
			const f = footprintOn.get(hostRef) ?? { all: 0, dom0: 0, prot: 0, refs: [] };
			f.all += need;
			if (vm.is_control_domain) f.dom0 += need;
			f.refs.push(ref);
			footprintOn.set(hostRef, f);
		}
	}
	vms.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
	const hosts: HostModel[] = Object.entries(snapshot.host).map(([ref, host]) => {
		const metrics = snapshot.host_metrics[host.metrics];
		const f = footprintOn.get(ref) ?? { all: 0, dom0: 0, prot: 0, refs: [] };
		const total = metrics?.memory_total ?? 0;
		const metricsLive = metrics?.live ?? false;
		return {
			ref,
			uuid: host.uuid,
			name: host.name_label,
			enabled: host.enabled,
			metricsLive,
			live: host.enabled && metricsLive,
			memoryTotal: total,
			memoryOverhead: host.memory_overhead,
			residentFootprint: f.all,
			controlDomainFootprint: f.dom0,
			protectedFootprint: 0,
			free: Math.max(0, total - host.memory_overhead - f.all),
			residentVMs: f.refs
		};
	});
	hosts.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
	const timeout = Number(Object.values(snapshot.pool)[0]?.ha_configuration?.['timeout'] ?? 60);
	const base: BaseModel = { hosts, vms, totalHosts: hosts.length, haTimeout: Number.isFinite(timeout) && timeout > 0 ? timeout : 60 };
	baseCache.set(snapshot, base);
	return base;
}

function prioritySetting(setting: PrioritySetting): { raw: string; order?: number } {
	return typeof setting === 'string' ? { raw: setting } : setting.order === undefined ? { raw: setting.priority } : { raw: setting.priority, order: setting.order };
}

/**
 * The immutable planning model for a snapshot under a what-if. Host accounting and agility are
 * computed once per snapshot object and shared, so a priority edit costs one pass over the VMs.
 */
export function buildModel(snapshot: Snapshot, whatIf: WhatIf = {}): PoolModel {
	const base = buildBase(snapshot);
	const dead = new Set([...(whatIf.failedHosts ?? []), ...(whatIf.hostsToDisable ?? [])]);
	const extra = whatIf.extraMemory ?? {};
	const overlay = whatIf.priorities ?? {};
	const replaceAll = whatIf.prioritiesReplaceAll === true;
	const vms: VmModel[] = base.vms.map((vm) => {
		const setting = overlay[vm.ref];
		if (setting === undefined && !replaceAll) return vm;
		const { raw, order: orderOverride } = setting === undefined ? { raw: '', order: undefined } : prioritySetting(setting);
		const { priority, order } = normalisePriority(raw, orderOverride ?? vm.order);
		const up = isUp(vm.powerState);
		return {
			...vm,
			rawPriority: raw,
			priority,
			order: orderOverride ?? order,
			protected: priority === 'restart' && up && !vm.isControlDomain,
			bestEffort: priority === 'best-effort' && up && !vm.isControlDomain
		};
	});
	const vmByRef = new Map(vms.map((vm) => [vm.ref, vm]));
	const hosts: HostModel[] = base.hosts.map((host) => {
		let protectedFootprint = 0;
		for (const ref of host.residentVMs) {
			const vm = vmByRef.get(ref);
			if (vm?.protected) protectedFootprint += vm.need;
		}
		const add = extra[host.ref] ?? 0;
		const total = host.memoryTotal + add;
		return {
			...host,
			live: host.enabled && host.metricsLive && !dead.has(host.ref),
			memoryTotal: total,
			protectedFootprint,
			free: Math.max(0, total - host.memoryOverhead - host.residentFootprint)
		};
	});
	return {
		hosts,
		vms,
		hostByRef: new Map(hosts.map((h) => [h.ref, h])),
		vmByRef,
		totalHosts: base.totalHosts,
		haTimeout: base.haTimeout
	};
}

export type { Agility };
