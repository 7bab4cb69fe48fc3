import type { Ref, Snapshot } from '../xapi/records';
import { exactFromOutcome } from './analyse';
import { computeRestartPlan } from './config';
import { buildModel } from './model';
import { exactPackingExists, type PackingResult } from './packing';
import type { PoolModel, WhatIf } from './types';

export type Fix =
	| { kind: 'priorities'; changes: { vm: Ref; from: string; to: string }[]; ntol: number; minimal: boolean }
	| { kind: 'memory'; hosts: { host: Ref; bytes: number }[]; totalBytes: number; ntol: number };

export interface FixSuggestions {
	current: number;
	target: number;
	/** Ranked: priority fixes by number of changes, then memory fixes by bytes. */
	fixes: Fix[];
}

const GiB = 1024 ** 3;

/** Sequences the local search replays in each "does this reach the target?" trial. */
const TRIAL_LOCAL_EVALUATIONS = 1_000;

/**
 * The proved tolerance under a what-if. With `atLeast`, proofs stop at that depth: the searches
 * below only ask whether a change reaches the target, and most trials are far from it. Those
 * trials also give the local search a smaller budget: near the target it mostly looks for a
 * failing sequence that does not exist, and fixes ask dozens of such questions.
 */
function ntolOf(snapshot: Snapshot, model: PoolModel, atLeast?: number): number {
	return exactFromOutcome(computeRestartPlan(snapshot, model), atLeast === undefined ? {} : { atLeast, localEvaluations: TRIAL_LOCAL_EVALUATIONS }).result.ntol;
}

function withPriorities(whatIf: WhatIf, changes: readonly { vm: Ref; to: string }[]): WhatIf {
	const priorities = { ...(whatIf.priorities ?? {}) };
	for (const c of changes) priorities[c.vm] = c.to;
	return { ...whatIf, priorities };
}

/**
 * Fewest priority changes: non-agile protected VMs must lose protection first (any of them
 * makes the tolerance 0); then, one change at a time, the protected VM whose demotion to
 * best-effort raises the tolerance most (ties: the one freeing most memory), among the VMs
 * that the current breaking set strands and the largest protected VMs. Afterwards each change
 * is dropped again if the target still holds without it. Greedy, so `minimal` is true only
 * when proved: one change beyond the required ones (none did not suffice), or two when every
 * single change has been tried and falls short (or one is found that does not).
 */
function priorityFix(snapshot: Snapshot, target: number, whatIf: WhatIf, maxChanges: number): Fix | null {
	type Change = { vm: Ref; from: string; to: string };
	const modelWith = (changes: readonly Change[]) => buildModel(snapshot, withPriorities(whatIf, changes));
	// Protected non-agile VMs must lose protection: any of them makes the tolerance 0.
	const forced: Change[] = buildModel(snapshot, whatIf)
		.vms.filter((vm) => vm.protected && !vm.agility.agile)
		.map((vm) => ({ vm: vm.ref, from: vm.rawPriority, to: 'best-effort' }));
	const chosen: Change[] = [];
	let model = modelWith(forced);
	let ntol = ntolOf(snapshot, model, target);
	// A demoted VM keeps running and keeps its memory, so demotions often cannot help at all:
	// after a few changes that raise nothing, the greedy walk gives up rather than spend a
	// dozen analyses per change up to the limit.
	let stalled = 0;
	while (ntol < target && forced.length + chosen.length < maxChanges && stalled < STALLED_CHANGES) {
		const outcome = computeRestartPlan(snapshot, model);
		const { result } = exactFromOutcome(outcome);
		const stranded = new Set((result.breaking?.vms ?? []).map((v) => outcome.config.vmRefs[v]));
		const protectedVms = model.vms.filter((vm) => vm.protected);
		const candidates = [...protectedVms.filter((vm) => stranded.has(vm.ref)), ...[...protectedVms].sort((a, b) => b.need - a.need).slice(0, 12)];
		const seen = new Set<Ref>();
		let best: { vm: Ref; from: string; ntol: number; need: number } | null = null;
		for (const vm of candidates) {
			if (seen.has(vm.ref)) continue;
			seen.add(vm.ref);
			const trial = ntolOf(snapshot, modelWith([...forced, ...chosen, { vm: vm.ref, from: vm.rawPriority, to: 'best-effort' }]), target);
			if (!best || trial > best.ntol || (trial === best.ntol && vm.need > best.need)) best = { vm: vm.ref, from: vm.rawPriority, ntol: trial, need: vm.need };
		}
		if (!best) return null;
		chosen.push({ vm: best.vm, from: best.from, to: 'best-effort' });
		stalled = best.ntol > ntol ? 0 : stalled + 1;
		ntol = best.ntol;
		model = modelWith([...forced, ...chosen]);
	}
	if (ntol < target) return null;
	// Drop chosen changes that turned out unnecessary (the forced ones are required).
	for (let i = chosen.length - 1; i >= 0; i--) {
		const without = chosen.filter((_, k) => k !== i);
		if (ntolOf(snapshot, modelWith([...forced, ...without]), target) >= target) chosen.splice(i, 1);
	}
	// The trials stopped at the target; the fix reports the whole tolerance it reaches.
	const done = (final: Change[], minimal: boolean): Fix => ({ kind: 'priorities', changes: final, ntol: ntolOf(snapshot, modelWith(final)), minimal });
	if (chosen.length <= 1) return done([...forced, ...chosen], true);
	// Two changes are the fewest once no single one reaches the target. The tolerance need not
	// be monotone in which VMs are protected (greedy packing has anomalies), so each protected
	// VM is tried on its own; on pools with many protected VMs that is left undone.
	if (chosen.length === 2) {
		const singles = modelWith(forced).vms.filter((vm) => vm.protected && vm.agility.agile);
		if (singles.length <= MINIMALITY_PROOF_VMS) {
			for (const vm of singles) {
				const one = [...forced, { vm: vm.ref, from: vm.rawPriority, to: 'best-effort' }];
				if (ntolOf(snapshot, modelWith(one), target) >= target) return done(one, true);
			}
			return done([...forced, ...chosen], true);
		}
	}
	return done([...forced, ...chosen], false);
}

/** Changes in a row that raise nothing before the priority search gives up. */
const STALLED_CHANGES = 4;

/** Above this many protected VMs, a two-change priority fix is not proved minimal (one analysis per VM). */
const MINIMALITY_PROOF_VMS = 150;

/** Least extra memory on one host (binary search in 1 GiB steps) that reaches the target. */
function memoryFixForHosts(snapshot: Snapshot, target: number, whatIf: WhatIf, hosts: Ref[], limitBytes: number): Fix | null {
	const trial = (bytes: number, atLeast: number | undefined = target) => {
		const extraMemory = { ...(whatIf.extraMemory ?? {}) };
		for (const h of hosts) extraMemory[h] = (extraMemory[h] ?? 0) + bytes;
		return ntolOf(snapshot, buildModel(snapshot, { ...whatIf, extraMemory }), atLeast);
	};
	let hi = Math.ceil(limitBytes / GiB);
	if (trial(hi * GiB) < target) return null;
	let lo = 0;
	while (hi - lo > 1) {
		const mid = Math.floor((lo + hi) / 2);
		if (trial(mid * GiB) >= target) hi = mid;
		else lo = mid;
	}
	return { kind: 'memory', hosts: hosts.map((host) => ({ host, bytes: hi * GiB })), totalBytes: hi * GiB * hosts.length, ntol: trial(hi * GiB, undefined) };
}

/** Ranked fixes that would raise the exact tolerance to `target`. */
export function suggestFixes(snapshot: Snapshot, target: number, whatIf: WhatIf = {}, opts: { maxChanges?: number } = {}): FixSuggestions {
	const model = buildModel(snapshot, whatIf);
	const current = ntolOf(snapshot, model);
	if (current >= target) return { current, target, fixes: [] };
	const fixes: Fix[] = [];
	const p = priorityFix(snapshot, target, whatIf, opts.maxChanges ?? 20);
	if (p) fixes.push(p);
	const nonAgileProtected = model.vms.some((vm) => vm.protected && !vm.agility.agile);
	if (!nonAgileProtected) {
		const live = model.hosts.filter((h) => h.live);
		const limit = Math.max(64 * GiB, ...live.map((h) => h.memoryTotal)) * Math.max(1, target);
		const memory: Fix[] = [];
		// Each search costs one analysis per step. The greedy rule fills the hosts with most free
		// memory first, so memory added there is used first: on big pools try those one by one,
		// and as groups of the 2, 4, 8 and 16 roomiest (several failures need room on several
		// hosts; one host alone rarely helps), besides every host at once.
		const roomiest = [...live].sort((a, b) => b.free - a.free);
		const singles = live.length <= 16 ? live : roomiest.slice(0, 8);
		for (const h of singles) {
			const fix = memoryFixForHosts(snapshot, target, whatIf, [h.ref], limit);
			if (fix) memory.push(fix);
		}
		for (const size of [2, 4, 8, 16]) {
			if (size >= live.length) break;
			const fix = memoryFixForHosts(snapshot, target, whatIf, roomiest.slice(0, size).map((h) => h.ref), limit);
			if (fix) memory.push(fix);
		}
		const everywhere = memoryFixForHosts(snapshot, target, whatIf, live.map((h) => h.ref), limit);
		if (everywhere) memory.push(everywhere);
		memory.sort((a, b) => (a.kind === 'memory' && b.kind === 'memory' ? a.totalBytes - b.totalBytes : 0));
		fixes.push(...memory);
	}
	return { current, target, fixes };
}

/**
 * When the greedy rule strands VMs after these hosts fail: would *some* placement fit them all?
 * Items are the protected VMs that must restart, bins the survivors' free memory.
 */
export function exactPlacementAfterFailure(snapshot: Snapshot, failedHosts: Ref[], whatIf: WhatIf = {}): PackingResult & { vms: Ref[]; hosts: Ref[] } {
	const model = buildModel(snapshot, { ...whatIf, failedHosts: [...(whatIf.failedHosts ?? []), ...failedHosts] });
	const live = model.hosts.filter((h) => h.live);
	const liveSet = new Set(live.map((h) => h.ref));
	const toPlace = model.vms.filter((vm) => vm.protected && vm.agility.agile && !(vm.host && liveSet.has(vm.host)));
	const result = exactPackingExists(
		toPlace.map((vm) => vm.need),
		live.map((h) => h.free)
	);
	return { ...result, vms: toPlace.map((vm) => vm.ref), hosts: live.map((h) => h.ref) };
}

export { exactPackingExists };
