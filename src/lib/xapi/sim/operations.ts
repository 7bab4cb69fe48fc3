/**
 * VM power operations shared by the XAPI methods (VM.start, VM.clean_shutdown) and the HA
 * runtime (restarts after a host failure), so both keep every back-reference consistent:
 * host.resident_VMs, VIF attachment, VM_metrics and host_metrics.memory_free.
 */
import { XapiCode } from '../codes';
import { XapiError } from '../errors';
import { NULL_REF, type Ref, type VMRecord } from '../records';
import type { SimulatedPool } from './pool';
import { recomputeHostMemoryFree, vmFootprint } from './scenario-builder';

/** "restart", or a legacy "0".."3" (restart with that order). */
export function isProtected(vm: VMRecord): boolean {
	return vm.ha_restart_priority === 'restart' || /^[0-3]$/.test(vm.ha_restart_priority);
}

/** The order group a protected VM restarts in (a legacy numeric priority is its own order). */
export function restartOrder(vm: VMRecord): number {
	return /^[0-3]$/.test(vm.ha_restart_priority) ? Number(vm.ha_restart_priority) : vm.order;
}

/** What xapi's allowed_operations lists per power state (the operations the simulator's clients look at). */
const ALLOWED_BY_POWER: Record<VMRecord['power_state'], readonly string[]> = {
	Halted: ['start', 'start_on', 'clone', 'copy', 'export', 'destroy', 'snapshot', 'changing_memory_limits', 'changing_VCPUs'],
	Running: ['clean_shutdown', 'hard_shutdown', 'clean_reboot', 'hard_reboot', 'pause', 'suspend', 'pool_migrate', 'snapshot', 'checkpoint', 'changing_dynamic_range'],
	Paused: ['unpause', 'hard_shutdown', 'hard_reboot'],
	Suspended: ['resume', 'resume_on', 'hard_shutdown']
};

/** Keeps VM.allowed_operations in step with the power state, as xapi's update_allowed_operations does. */
export function refreshAllowedOperations(pool: SimulatedPool, vmRef: Ref, touch = true): void {
	const vm = pool.snapshot.VM[vmRef];
	if (!vm) return;
	const next = vm.is_control_domain || vm.is_a_template || vm.is_a_snapshot ? [] : [...ALLOWED_BY_POWER[vm.power_state]];
	if (next.join() === vm.allowed_operations.join()) return;
	vm.allowed_operations = next;
	if (touch) pool.db.touch('VM', vmRef);
}

export function hostIsLive(pool: SimulatedPool, host: Ref): boolean {
	const record = pool.snapshot.host[host];
	return !!record && pool.snapshot.host_metrics[record.metrics]?.live === true;
}

export function hostFreeMemory(pool: SimulatedPool, host: Ref): number {
	const record = pool.snapshot.host[host];
	return record ? (pool.snapshot.host_metrics[record.metrics]?.memory_free ?? 0) : 0;
}

/**
 * Why `vm` cannot boot on `host`, as the error VM.start_on would raise, or undefined if it can.
 * Checks what xapi's assert_can_boot_here checks that the simulator models: the host is up and
 * enabled, reaches every SR and network the VM uses, and has the memory.
 */
export function cannotBootHere(pool: SimulatedPool, vmRef: Ref, host: Ref): XapiError | undefined {
	const snap = pool.snapshot;
	const vm = snap.VM[vmRef];
	const h = snap.host[host];
	if (!vm || !h) return new XapiError(XapiCode.HANDLE_INVALID, [vm ? 'host' : 'VM', vm ? host : vmRef]);
	if (!hostIsLive(pool, host) || !pool.runtime.hostIsUp(host)) return new XapiError(XapiCode.HOST_OFFLINE, [host]);
	if (!h.enabled) return new XapiError(XapiCode.HOST_DISABLED, [host]);
	for (const vbdRef of vm.VBDs) {
		const vbd = snap.VBD[vbdRef];
		if (!vbd || vbd.VDI === NULL_REF) continue;
		const sr = snap.VDI[vbd.VDI]?.SR;
		if (!sr) continue;
		const reachable = (snap.SR[sr]?.PBDs ?? []).some((p) => snap.PBD[p]?.host === host && snap.PBD[p]?.currently_attached);
		if (!reachable) return new XapiError(XapiCode.VM_REQUIRES_SR, [vmRef, sr]);
	}
	for (const vifRef of vm.VIFs) {
		const network = snap.VIF[vifRef]?.network;
		if (!network || network === NULL_REF) continue;
		const pifs = snap.network[network]?.PIFs ?? [];
		// A network without any PIF is host-internal: every host has its own copy.
		const reachable = pifs.length === 0 || pifs.some((p) => snap.PIF[p]?.host === host);
		if (!reachable) return new XapiError(XapiCode.VM_REQUIRES_NETWORK, [vmRef, network]);
	}
	const needed = vmFootprint(vm);
	const free = hostFreeMemory(pool, host);
	if (needed > free) return new XapiError(XapiCode.HOST_NOT_ENOUGH_FREE_MEMORY, [String(needed), String(free)]);
	return undefined;
}

/**
 * A host for `vm` when the caller did not name one: the live, enabled host with the most free
 * memory that can boot it (ties by uuid), or the first reason none could.
 */
export function chooseHost(pool: SimulatedPool, vmRef: Ref): { host: Ref } | { error: XapiError } {
	const hosts = Object.entries(pool.snapshot.host)
		.sort(([a, ha], [b, hb]) => hostFreeMemory(pool, b) - hostFreeMemory(pool, a) || ha.uuid.localeCompare(hb.uuid))
		.map(([r]) => r);
	let first: XapiError | undefined;
	for (const host of hosts) {
		const why = cannotBootHere(pool, vmRef, host);
		if (!why) return { host };
		// Memory is the most telling reason to report; an offline host is the least.
		if (!first || (first.code === XapiCode.HOST_OFFLINE && why.code !== XapiCode.HOST_OFFLINE)) first = why;
	}
	return { error: first ?? new XapiError(XapiCode.HOST_NOT_ENOUGH_FREE_MEMORY, [String(vmFootprint(pool.snapshot.VM[vmRef] as VMRecord)), '0']) };
}

export function bootVm(pool: SimulatedPool, vmRef: Ref, host: Ref, paused = false): void {
	const snap = pool.snapshot;
	const vm = snap.VM[vmRef];
	const h = snap.host[host];
	if (!vm || !h) return;
	vm.power_state = paused ? 'Paused' : 'Running';
	vm.resident_on = host;
	vm.scheduled_to_be_resident_on = NULL_REF;
	if (!h.resident_VMs.includes(vmRef)) h.resident_VMs.push(vmRef);
	const metrics = snap.VM_metrics[vm.metrics];
	if (metrics) {
		metrics.memory_actual = vm.memory_dynamic_max;
		metrics.start_time = pool.clock.isoNow();
		metrics.last_updated = pool.clock.isoNow();
		pool.db.touch('VM_metrics', vm.metrics);
	}
	for (const vif of vm.VIFs) setVifAttached(pool, vif, true);
	refreshAllowedOperations(pool, vmRef, false);
	pool.db.touch('VM', vmRef);
	pool.db.touch('host', host);
	refreshMemory(pool, [host]);
}

/** Marks `vm` Halted and off its host (a clean shutdown, or the host it ran on died). */
export function haltVm(pool: SimulatedPool, vmRef: Ref): void {
	const snap = pool.snapshot;
	const vm = snap.VM[vmRef];
	if (!vm) return;
	const host = vm.resident_on;
	vm.power_state = 'Halted';
	vm.resident_on = NULL_REF;
	const h = snap.host[host];
	if (h) {
		h.resident_VMs = h.resident_VMs.filter((r) => r !== vmRef);
		pool.db.touch('host', host);
	}
	const metrics = snap.VM_metrics[vm.metrics];
	if (metrics) {
		metrics.memory_actual = 0;
		metrics.last_updated = pool.clock.isoNow();
		pool.db.touch('VM_metrics', vm.metrics);
	}
	for (const vif of vm.VIFs) setVifAttached(pool, vif, false);
	refreshAllowedOperations(pool, vmRef, false);
	pool.db.touch('VM', vmRef);
	if (h) refreshMemory(pool, [host]);
}

function setVifAttached(pool: SimulatedPool, vif: Ref, attached: boolean): void {
	const record = pool.snapshot.VIF[vif];
	if (!record || record.currently_attached === attached) return;
	record.currently_attached = attached;
	pool.db.touch('VIF', vif);
}

/** Recomputes memory_free the way scenarios do and emits events for the hosts whose value moved. */
export function refreshMemory(pool: SimulatedPool, hosts?: Ref[]): void {
	const snap = pool.snapshot;
	const before = new Map(Object.entries(snap.host).map(([r, h]) => [r, snap.host_metrics[h.metrics]?.memory_free]));
	recomputeHostMemoryFree(snap);
	for (const [r, h] of Object.entries(snap.host)) {
		if (hosts && !hosts.includes(r) && before.get(r) === snap.host_metrics[h.metrics]?.memory_free) continue;
		if (before.get(r) !== snap.host_metrics[h.metrics]?.memory_free) pool.db.touch('host_metrics', h.metrics);
	}
}
