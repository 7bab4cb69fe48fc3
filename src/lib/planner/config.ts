import type { Ref, Snapshot } from '../xapi/records';
import { AgilityChecker } from './agility';
import { packBiggestFit } from './binpack';
import type { PoolModel } from './types';

/**
 * The planning configuration after the restart plan (xapi_ha_vm_failover.ml
 * `compute_restart_plan`): live hosts with free memory, the agile protected VMs and where they
 * run. VM ids are numbered in packing order (need descending, ties in the toolstack's
 * placement-list order), so "sort the failed VMs" is a numeric sort of their ids.
 */
export interface PlanConfig {
	/** Live hosts in uuid order; a host id is an index here. */
	readonly hostRefs: readonly Ref[];
	/** Free memory per host id after the restart plan (may be < 0 if pinned VMs overcommit). */
	readonly free: Float64Array;
	/** Agile protected VMs; a VM id is an index here. */
	readonly vmRefs: readonly Ref[];
	readonly need: Float64Array;
	/** Host id per VM id, −1 for a VM that could not be restarted. */
	readonly hostOf: Int32Array;
	readonly totalHosts: number;
}

export interface NonAgileProtected {
	vm: Ref;
	code: string;
	params: string[];
}

export interface RestartOutcome {
	readonly config: PlanConfig;
	/** Protected VMs not on a live host, and where the toolstack would start them. */
	readonly restartPlan: readonly { vm: Ref; host: Ref }[];
	/** Protected agile VMs not on a live host that did not fit. */
	readonly notRestarted: readonly Ref[];
	readonly nonAgileProtected: readonly NonAgileProtected[];
}

export function computeRestartPlan(snapshot: Snapshot, model: PoolModel): RestartOutcome {
	const liveHosts = model.hosts.filter((h) => h.live);
	const hostIndex = new Map(liveHosts.map((h, i) => [h.ref, i]));
	const free = Float64Array.from(liveHosts, (h) => h.free);
	const protectedVms = model.vms.filter((vm) => vm.protected);
	const agile = protectedVms.filter((vm) => vm.agility.agile);
	const nonAgile = protectedVms.filter((vm) => !vm.agility.agile);
	const restartPlan: { vm: Ref; host: Ref }[] = [];

	// Non-agile protected VMs are pinned to the first host (uuid order, any liveness) they can
	// boot on; the offline ones are accounted there as overhead.
	if (nonAgile.length > 0) {
		const checker = new AgilityChecker(snapshot);
		for (const vm of nonAgile) {
			if (vm.host && hostIndex.has(vm.host)) continue;
			const pinned = model.hosts.find((h) => checker.canBootOn(vm.ref, h.ref));
			if (!pinned) continue;
			restartPlan.push({ vm: vm.ref, host: pinned.ref });
			const i = hostIndex.get(pinned.ref);
			if (i !== undefined) free[i] = (free[i] as number) - vm.need;
		}
	}

	// Agile: those on a live host keep their place; the rest are packed (uuid order, stable).
	const placed = agile.filter((vm) => vm.host !== null && hostIndex.has(vm.host));
	const offline = agile.filter((vm) => !(vm.host !== null && hostIndex.has(vm.host)));
	const offlineNeed = Float64Array.from(offline, (vm) => vm.need);
	const offlineOrder = offline.map((_, i) => i).sort((a, b) => (offlineNeed[b] as number) - (offlineNeed[a] as number));
	const allocation: [number, number][] = [];
	const missed = packBiggestFit(offlineOrder, offlineNeed, liveHosts.map((_, i) => i), free, (item, bin) => allocation.push([item, bin]));

	// Placement-list order after `apply_plan`: the plan (binpack returns it newest first), then the rest.
	const ranked: { ref: Ref; need: number; host: number; rank: number }[] = [];
	allocation.forEach(([item, bin], k) => {
		const vm = offline[item];
		if (!vm) return;
		restartPlan.push({ vm: vm.ref, host: liveHosts[bin]?.ref ?? '' });
		ranked.push({ ref: vm.ref, need: vm.need, host: bin, rank: allocation.length - 1 - k });
	});
	placed.forEach((vm, k) => ranked.push({ ref: vm.ref, need: vm.need, host: hostIndex.get(vm.host as Ref) as number, rank: allocation.length + k }));
	for (const item of missed) {
		const vm = offline[item];
		if (vm) ranked.push({ ref: vm.ref, need: vm.need, host: -1, rank: Number.MAX_SAFE_INTEGER });
	}
	ranked.sort((a, b) => b.need - a.need || a.rank - b.rank);

	return {
		config: {
			hostRefs: liveHosts.map((h) => h.ref),
			free,
			vmRefs: ranked.map((r) => r.ref),
			need: Float64Array.from(ranked, (r) => r.need),
			hostOf: Int32Array.from(ranked, (r) => r.host),
			totalHosts: model.totalHosts
		},
		restartPlan,
		notRestarted: missed.map((i) => offline[i]?.ref ?? ''),
		nonAgileProtected: nonAgile.map((vm) => ({ vm: vm.ref, code: vm.agility.agile ? '' : vm.agility.code, params: vm.agility.agile ? [] : vm.agility.params }))
	};
}

/** A mutable failure-simulation state over a PlanConfig. */
export interface FailureState {
	free: Float64Array;
	alive: Uint8Array;
	aliveCount: number;
	/** VM ids per host id. */
	members: number[][];
	/** Memory of the protected VMs per host id (Σ need of members), kept up to date. */
	load: Float64Array;
}

export function initialState(config: PlanConfig): FailureState {
	const m = config.hostRefs.length;
	const members: number[][] = Array.from({ length: m }, () => []);
	for (let vm = 0; vm < config.hostOf.length; vm++) {
		const h = config.hostOf[vm] as number;
		if (h >= 0) members[h]?.push(vm);
	}
	const load = new Float64Array(m);
	members.forEach((list, h) => {
		for (const vm of list) load[h] = (load[h] as number) + (config.need[vm] as number);
	});
	return { free: Float64Array.from(config.free), alive: new Uint8Array(m).fill(1), aliveCount: m, members, load };
}

export function cloneState(s: FailureState): FailureState {
	return { free: Float64Array.from(s.free), alive: Uint8Array.from(s.alive), aliveCount: s.aliveCount, members: s.members.slice(), load: Float64Array.from(s.load) };
}

/** Working arrays a failure is applied to in place; `copied` marks member lists this copy owns. */
export interface FailureWork {
	free: Float64Array;
	alive: Uint8Array;
	members: number[][];
	copied: Uint8Array;
	load?: Float64Array;
}

/**
 * One host fails (binpack.ml `simulate_failure`), in place: its VMs are packed onto the other
 * live hosts, each receiving host's list copied before its first change. `onPlace` sees every
 * placement once the host's free memory has been lowered. Returns the VMs left without room
 * (the arrays are then part-way and should be dropped); on success the host is dead and empty.
 *
 * With `tracked`, only the hosts it marks get their VM lists and loads kept up to date (the
 * others' become stale): a search over the orders of a fixed set of failures only ever reads
 * the hosts still to fail, and copying every receiving host's list was most of its time.
 */
export function applyFailure(config: PlanConfig, work: FailureWork, dead: number, tracked?: Uint8Array, onPlace?: (item: number, bin: number) => void): number[] {
	const { free, alive, members, copied, load } = work;
	const items = Int32Array.from(members[dead] ?? []).sort();
	const bins: number[] = [];
	for (let h = 0; h < alive.length; h++) if (alive[h] && h !== dead) bins.push(h);
	const missed = packBiggestFit(items, config.need, bins, free, (item, bin) => {
		onPlace?.(item, bin);
		if (tracked && !tracked[bin]) return;
		if (load) load[bin] = (load[bin] as number) + (config.need[item] as number);
		if (!copied[bin]) {
			copied[bin] = 1;
			members[bin] = (members[bin] ?? []).slice();
		}
		members[bin]?.push(item);
	});
	if (missed.length > 0) return missed;
	members[dead] = [];
	if (load) load[dead] = 0;
	alive[dead] = 0;
	free[dead] = 0;
	return missed;
}

/** One host fails: a new state, or the VMs left without room. `s` is not modified. */
export function failHost(config: PlanConfig, s: FailureState, dead: number, tracked?: Uint8Array): { ok: true; state: FailureState } | { ok: false; unplaced: number[] } {
	const work = { free: Float64Array.from(s.free), alive: Uint8Array.from(s.alive), members: s.members.slice(), copied: new Uint8Array(s.alive.length), load: Float64Array.from(s.load) };
	const missed = applyFailure(config, work, dead, tracked);
	if (missed.length > 0) return { ok: false, unplaced: missed };
	return { ok: true, state: { free: work.free, alive: work.alive, aliveCount: s.aliveCount - 1, members: work.members, load: work.load } };
}

/** Cheaper variant: does the failure of `dead` succeed? (no new state built) */
export function failureSucceeds(config: PlanConfig, s: FailureState, dead: number, scratchFree: Float64Array): boolean {
	const list = s.members[dead] ?? [];
	if (list.length === 0) return true;
	const items = Int32Array.from(list).sort();
	scratchFree.set(s.free);
	const bins: number[] = [];
	for (let h = 0; h < s.alive.length; h++) if (s.alive[h] && h !== dead) bins.push(h);
	return packBiggestFit(items, config.need, bins, scratchFree, null, true).length === 0;
}
