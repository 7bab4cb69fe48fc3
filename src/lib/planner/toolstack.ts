import { XapiCode } from '../xapi/codes';
import type { Ref, Snapshot } from '../xapi/records';
import { packBiggestFit } from './binpack';
import { computeRestartPlan, failHost, initialState, type FailureState, type PlanConfig, type RestartOutcome } from './config';
import { buildModel } from './model';
import type { WhatIf } from './types';

/**
 * What the real pool answers, rule for rule (xen-api ocaml/xapi/binpack.ml and
 * xapi_ha_vm_failover.ml), so the simulated pool can serve it and Haven can say what the pool
 * itself will report next to its own exact figures.
 */

export type Strategy = 'exhaustive' | 'approximation';

/** xapi's plan_status: a plan for all protected VMs, one that leaves the non-agile out, or none. */
export type PlanStatus = 'all' | 'excluding-non-agile' | 'none';

const EXHAUSTIVE_LIMIT = 3500;

/** binpack.ml `choose_heuristic`: exhaustive only while n ≤ 32 and C(n,r)·r! = nPr < 3500. */
export function chooseStrategy(totalHosts: number, r: number): Strategy {
	if (totalHosts > 32) return 'approximation';
	if (r < 0 || r > totalHosts) return 'approximation';
	let permutations = 1;
	for (let i = 0; i < r; i++) {
		permutations *= totalHosts - i;
		if (permutations >= EXHAUSTIVE_LIMIT) return 'approximation';
	}
	return 'exhaustive';
}

/** binpack.ml `plan_trivially_never_possible`. */
function triviallyNeverPossible(config: PlanConfig, r: number): boolean {
	const m = config.hostRefs.length;
	return m < r || (m === r && config.vmRefs.length > 0);
}

/** Every r-sequence of distinct live hosts failing one after another (all subsets, all orders). */
export function exhaustivePlanAlwaysPossible(config: PlanConfig, r: number): boolean {
	if (triviallyNeverPossible(config, r)) return false;
	const visit = (state: FailureState, depth: number): boolean => {
		if (depth === 0) return true;
		for (let h = 0; h < state.alive.length; h++) {
			if (!state.alive[h]) continue;
			const next = failHost(config, state, h);
			if (!next.ok) return false;
			if (!visit(next.state, depth - 1)) return false;
		}
		return true;
	};
	return visit(initialState(config), r);
}

/**
 * binpack.ml `simulate_failure_approximation`: every VM as big as the biggest, the r hosts with
 * most slots fail, carrying the r largest VM counts.
 */
export function approximatePlanAlwaysPossible(config: PlanConfig, r: number): boolean {
	if (triviallyNeverPossible(config, r)) return false;
	if (config.vmRefs.length === 0) return true;
	let maxVm = 0;
	for (const n of config.need) maxVm = Math.max(maxVm, n);
	if (maxVm <= 0) return false; // Int64.div by zero: xapi's planner catches it as "no plan"
	const m = config.hostRefs.length;
	const slots = Array.from(config.free, (f) => Math.trunc(f / maxVm)).sort((a, b) => b - a);
	const leftCapacity = slots.slice(r).reduce((a, b) => a + b, 0);
	const counts = new Array<number>(m).fill(0);
	for (const h of config.hostOf) if (h >= 0) counts[h] = (counts[h] ?? 0) + 1;
	counts.sort((a, b) => b - a);
	const toMove = counts.slice(0, r).reduce((a, b) => a + b, 0);
	return toMove <= leftCapacity;
}

export function planAlwaysPossible(config: PlanConfig, r: number): { ok: boolean; strategy: Strategy } {
	const strategy = chooseStrategy(config.totalHosts, r);
	const ok = strategy === 'exhaustive' ? exhaustivePlanAlwaysPossible(config, r) : approximatePlanAlwaysPossible(config, r);
	return { ok, strategy };
}

/** xapi_ha_vm_failover.ml `plan_for_n_failures` on a computed restart outcome. */
export function planStatusFor(outcome: RestartOutcome, n: number, known?: KnownTolerance): PlanStatus {
	if (outcome.notRestarted.length > 0) return 'none';
	if (!planAlwaysPossibleKnowing(outcome.config, n, known)) return 'none';
	return outcome.nonAgileProtected.length > 0 ? 'excluding-non-agile' : 'all';
}

/**
 * What Haven's exact search already proved about this configuration: every sequence of up to
 * `ntol` failures succeeds, and one of `ntolUpper + 1` fails. The exhaustive strategy asks
 * exactly "does every r-sequence succeed?", so where the proof covers r it is the answer and the
 * toolstack's enumeration need not be repeated (the approximation is always computed).
 */
export interface KnownTolerance {
	ntol: number;
	ntolUpper: number;
}

function planAlwaysPossibleKnowing(config: PlanConfig, r: number, known?: KnownTolerance): boolean {
	const strategy = chooseStrategy(config.totalHosts, r);
	if (strategy === 'approximation') return approximatePlanAlwaysPossible(config, r);
	if (known && r <= known.ntol) return !triviallyNeverPossible(config, r);
	if (known && r > known.ntolUpper) return false;
	return exhaustivePlanAlwaysPossible(config, r);
}

/** helpers.ml `bisect`: the largest value in [lower, upper] for which f holds, assuming monotonicity. */
export function bisect(f: (n: number) => boolean, lower: number, upper: number): number {
	while (upper - lower >= 2) {
		const mid = Math.floor((upper + lower) / 2);
		if (f(mid)) lower = mid;
		else upper = mid;
	}
	return f(upper) ? upper : lower;
}

/** The toolstack's answer and the strategy it used for each number it tried. */
export function toolstackNtolDetailed(outcome: RestartOutcome, known?: KnownTolerance): { ntol: number; strategies: Record<number, Strategy> } {
	const strategies: Record<number, Strategy> = {};
	const ntol = bisect(
		(n) => {
			strategies[n] = chooseStrategy(outcome.config.totalHosts, n);
			return planStatusFor(outcome, n, known) === 'all';
		},
		0,
		outcome.config.totalHosts
	);
	return { ntol, strategies };
}

/** Restart outcome for a snapshot under a what-if, priorities read the way the toolstack does. */
export function restartOutcome(snapshot: Snapshot, whatIf: WhatIf = {}): RestartOutcome {
	return computeRestartPlan(snapshot, buildModel(snapshot, whatIf));
}

/**
 * Exactly what `pool.ha_compute_max_host_failures_to_tolerate` answers (and, with
 * `whatIf.priorities` plus `prioritiesReplaceAll`, `..._hypothetical_...`).
 */
export function toolstackMaxFailuresToTolerate(snapshot: Snapshot, whatIf: WhatIf = {}): number {
	return toolstackNtolDetailed(restartOutcome(snapshot, whatIf)).ntol;
}

/** `pool.ha_failover_plan_exists`-style check: does a plan for all protected VMs exist for n failures? */
export function planExistsFor(snapshot: Snapshot, n: number, whatIf: WhatIf = {}): boolean {
	return planStatusFor(restartOutcome(snapshot, whatIf), n) === 'all';
}

export function planStatus(snapshot: Snapshot, n: number, whatIf: WhatIf = {}): PlanStatus {
	return planStatusFor(restartOutcome(snapshot, whatIf), n);
}

/**
 * `pool.ha_compute_vm_failover_plan(failed_hosts, failed_vms)` (xapi_pool.ml): live = metrics
 * live minus the failed hosts; every failed VM gets HOST_NOT_ENOUGH_FREE_MEMORY, or its agility
 * error, unless the evacuation binpack (VMs in the given order, stably by need) places it.
 */
export function toolstackFailoverPlan(snapshot: Snapshot, failedHosts: Ref[], failedVms: Ref[]): Record<Ref, { host: Ref } | { error_code: string }> {
	const model = buildModel(snapshot);
	const failed = new Set(failedHosts);
	const live = model.hosts.filter((h) => h.metricsLive && !failed.has(h.ref));
	const free = Float64Array.from(live, (h) => h.free);
	const vms = failedVms.map((ref) => model.vmByRef.get(ref));
	const need = Float64Array.from(vms, (vm) => vm?.need ?? 0);
	const order = vms.map((_, i) => i).sort((a, b) => (need[b] as number) - (need[a] as number));
	const out: Record<Ref, { host: Ref } | { error_code: string }> = {};
	failedVms.forEach((ref, i) => {
		const vm = vms[i];
		out[ref] = { error_code: !vm ? XapiCode.HANDLE_INVALID : vm.agility.agile ? XapiCode.HOST_NOT_ENOUGH_FREE_MEMORY : vm.agility.code };
	});
	packBiggestFit(order, need, live.map((_, i) => i), free, (item, bin) => {
		const ref = failedVms[item];
		const host = live[bin];
		if (ref !== undefined && host && vms[item]) out[ref] = { host: host.ref };
	});
	return out;
}
