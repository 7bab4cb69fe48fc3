import { XapiCode } from '../xapi/codes';
import type { Ref, Snapshot } from '../xapi/records';
import { exactFromOutcome } from './analyse';
import { packBiggestFit } from './binpack';
import { computeRestartPlan } from './config';
import { buildModel } from './model';
import { toolstackNtolDetailed } from './toolstack';
import type { WhatIf } from './types';

export interface FailoverPlan {
	failed: Ref[];
	/** Protected VM → host it restarts on. */
	placements: Record<Ref, Ref>;
	/** Protected VMs that cannot restart, with the XAPI code of the reason. */
	unplaced: { vm: Ref; reason: string }[];
	/** Best-effort VMs from the failed hosts placed after the protected ones, where memory remains. */
	bestEffort: Record<Ref, Ref>;
	bestEffortUnplaced: { vm: Ref; reason: string }[];
	/** Free memory per surviving live host once everything above has started. */
	headroom: Record<Ref, number>;
	/** Exact tolerance left after this failure (and what the pool would then report). */
	remainingNtol: number;
	remainingToolstackNtol: number;
}

/**
 * What the HA runtime does when these hosts die together: the protected VMs that were on them
 * (and any other protected VM not running on a live host) are packed by the toolstack's rule
 * onto the survivors (compute_restart_plan); then best-effort VMs, in the same way, into the
 * memory that remains.
 */
export function failoverPlan(snapshot: Snapshot, failedHosts: Ref[], whatIf: WhatIf = {}): FailoverPlan {
	const failed = [...new Set([...(whatIf.failedHosts ?? []), ...failedHosts])];
	const model = buildModel(snapshot, { ...whatIf, failedHosts: failed });
	const outcome = computeRestartPlan(snapshot, model);
	const live = new Set(outcome.config.hostRefs);
	const placements: Record<Ref, Ref> = {};
	const unplaced: { vm: Ref; reason: string }[] = [];
	const nonAgile = new Map(outcome.nonAgileProtected.map((n) => [n.vm, n]));
	for (const { vm, host } of outcome.restartPlan) {
		if (nonAgile.has(vm) && !live.has(host)) unplaced.push({ vm, reason: nonAgile.get(vm)?.code ?? XapiCode.HOST_NOT_LIVE });
		else placements[vm] = host;
	}
	for (const vm of outcome.notRestarted) unplaced.push({ vm, reason: XapiCode.HOST_NOT_ENOUGH_FREE_MEMORY });
	// Non-agile protected VMs that had nowhere at all to be pinned.
	for (const n of outcome.nonAgileProtected) {
		const vm = model.vmByRef.get(n.vm);
		const onLive = vm?.host !== null && vm?.host !== undefined && live.has(vm.host);
		if (!onLive && !(n.vm in placements) && !unplaced.some((u) => u.vm === n.vm)) unplaced.push({ vm: n.vm, reason: n.code });
	}

	// Best-effort: those that were on a failed host, packed by the same rule into what remains.
	const free = Float64Array.from(outcome.config.free);
	const failedSet = new Set(failed);
	const candidates = model.vms.filter((vm) => vm.bestEffort && vm.host !== null && failedSet.has(vm.host));
	const need = Float64Array.from(candidates, (vm) => vm.need);
	const order = candidates.map((_, i) => i).sort((a, b) => (need[b] as number) - (need[a] as number));
	const bestEffort: Record<Ref, Ref> = {};
	const bestEffortUnplaced: { vm: Ref; reason: string }[] = [];
	const missed = packBiggestFit(order, need, outcome.config.hostRefs.map((_, i) => i), free, (item, bin) => {
		const vm = candidates[item];
		const host = outcome.config.hostRefs[bin];
		if (vm && host) bestEffort[vm.ref] = host;
	});
	for (const item of missed) {
		const vm = candidates[item];
		if (vm) bestEffortUnplaced.push({ vm: vm.ref, reason: vm.agility.agile ? XapiCode.HOST_NOT_ENOUGH_FREE_MEMORY : vm.agility.code });
	}
	const remaining = exactFromOutcome(outcome);
	const headroom: Record<Ref, number> = {};
	outcome.config.hostRefs.forEach((h, i) => (headroom[h] = free[i] as number));

	return {
		failed,
		placements,
		unplaced,
		bestEffort,
		bestEffortUnplaced,
		headroom,
		remainingNtol: remaining.result.ntol,
		remainingToolstackNtol: toolstackNtolDetailed(outcome, remaining.status.kind === 'planned' ? remaining.result : undefined).ntol
	};
}
