import { failHost, failureSucceeds, initialState, type FailureState, type PlanConfig } from './config';

/**
 * Exact tolerance under the toolstack's own placement rule, for any pool size.
 *
 * The question: the largest r such that every sequence of r distinct live hosts, failing one
 * after another and each re-packed by biggest-fit-decreasing, leaves no protected VM without
 * room. This is monotone in r (a failing sequence of length r is a prefix of sequences of
 * every greater length), so it is "length of the shortest failing sequence − 1".
 *
 * Searching all m!/(m−r)! sequences is hopeless at 64 hosts, so the search is pruned by a
 * sound bound, proved here:
 *
 *   Let T_k be the sum of the k largest free memories among live hosts, cap(h) = free(h) +
 *   memory of the protected VMs on h (invariant while VMs move: what h gains in VMs it loses
 *   in free memory), C_d the sum of the d largest caps, and s the largest protected VM.
 *   Placing an item into the currently biggest host lowers T_k by at most the item's size;
 *   removing a failed host lowers T_k by at most its free memory (the next host, free ≥ 0,
 *   takes its place, and at most d hosts go so k ≤ m − d hosts always remain). A failure of h
 *   removes free(h) and then places load(h): together cap(h). So during the next d failures,
 *   in any order, T_k never drops below T_k − C_d, and the biggest host has at least
 *   (T_k − C_d)/k free. If that is ≥ s for some k ≤ m − d, every VM fits whenever it is
 *   placed: no sequence of d more failures can break anything.
 *
 * The search is iterative deepening over r from the bound's lower limit, depth-first, worst
 * host (largest cap) first, pruning every node whose remaining depth the bound covers; a
 * greedy dive supplies an upper limit and a witness. Every answer it gives is exact: the bound
 * only ever skips subtrees it has proved safe. What is not guaranteed is the time: a pool
 * whose headroom sits just at the bound's blind spot can still need a large search; the
 * `nodeLimit` option turns that into an explicit `exact: false` rather than a hang.
 */

export interface ExactResult {
	ntol: number;
	/** Host ids in failure order whose failure leaves VMs without room, and those VM ids. */
	breaking: { hosts: number[]; vms: number[] } | null;
	/** True unless the node budget ran out (then ntol is a proved lower bound). */
	exact: boolean;
	nodes: number;
	/** Depths the bound proved without search. */
	provedByBound: number;
}

interface Search {
	config: PlanConfig;
	maxNeed: number;
	nodes: number;
	nodeLimit: number;
	scratch: Float64Array;
	aborted: boolean;
}

function loads(config: PlanConfig, s: FailureState): Float64Array {
	const load = new Float64Array(s.alive.length);
	for (let h = 0; h < s.alive.length; h++) {
		let sum = 0;
		for (const vm of s.members[h] ?? []) sum += config.need[vm] as number;
		load[h] = sum;
	}
	return load;
}

/** The bound above: can d more failures, in any order, be shown harmless? */
export function provedSafe(config: PlanConfig, s: FailureState, d: number, maxNeed: number, load?: Float64Array): boolean {
	if (d <= 0) return true;
	const m = s.aliveCount;
	if (d >= m) return false;
	const l = load ?? loads(config, s);
	const frees: number[] = [];
	const caps: number[] = [];
	for (let h = 0; h < s.alive.length; h++) {
		if (!s.alive[h]) continue;
		const f = s.free[h] as number;
		if (f < 0) return false;
		frees.push(f);
		caps.push(f + (l[h] as number));
	}
	frees.sort((a, b) => b - a);
	caps.sort((a, b) => b - a);
	let lost = 0;
	for (let i = 0; i < d; i++) lost += caps[i] as number;
	let top = 0;
	for (let k = 1; k <= m - d; k++) {
		top += frees[k - 1] as number;
		if (top - lost >= k * maxNeed) return true;
	}
	return false;
}

function largestProvedDepth(config: PlanConfig, s: FailureState, maxNeed: number): number {
	const load = loads(config, s);
	let d = 0;
	while (d + 1 < s.aliveCount && provedSafe(config, s, d + 1, maxNeed, load)) d++;
	return d;
}

function hostsWorstFirst(config: PlanConfig, s: FailureState): number[] {
	const load = loads(config, s);
	const hosts: number[] = [];
	for (let h = 0; h < s.alive.length; h++) if (s.alive[h]) hosts.push(h);
	return hosts.sort((a, b) => (load[b] as number) + (s.free[b] as number) - ((load[a] as number) + (s.free[a] as number)) || (load[b] as number) - (load[a] as number));
}

/** A failing sequence of at most d more failures from s, or null if none exists. */
function findFailure(search: Search, s: FailureState, d: number): { hosts: number[]; vms: number[] } | null {
	if (search.aborted) return null;
	search.nodes++;
	if (search.nodes > search.nodeLimit) {
		search.aborted = true;
		return null;
	}
	if (provedSafe(search.config, s, d, search.maxNeed)) return null;
	for (const h of hostsWorstFirst(search.config, s)) {
		if (d === 1) {
			search.nodes++;
			if (failureSucceeds(search.config, s, h, search.scratch)) continue;
		}
		const next = failHost(search.config, s, h);
		if (!next.ok) return { hosts: [h], vms: next.unplaced };
		if (d > 1) {
			const deeper = findFailure(search, next.state, d - 1);
			if (deeper) return { hosts: [h, ...deeper.hosts], vms: deeper.vms };
			if (search.aborted) return null;
		}
	}
	return null;
}

/** Fail the worst host again and again: a quick witness (an upper limit on the tolerance). */
function greedyDive(config: PlanConfig, s0: FailureState): { hosts: number[]; vms: number[] } | null {
	let s = s0;
	const seq: number[] = [];
	while (s.aliveCount > 0) {
		let worst: { h: number; next: ReturnType<typeof failHost> } | null = null;
		for (const h of hostsWorstFirst(config, s).slice(0, 4)) {
			const next = failHost(config, s, h);
			if (!next.ok) return { hosts: [...seq, h], vms: next.unplaced };
			if (!worst) worst = { h, next };
		}
		if (!worst || !worst.next.ok) return null;
		seq.push(worst.h);
		s = worst.next.state;
	}
	return null;
}

export function exactNtol(config: PlanConfig, opts: { nodeLimit?: number; start?: FailureState } = {}): ExactResult {
	const s0 = opts.start ?? initialState(config);
	const m = s0.aliveCount;
	let anyVm = false;
	for (const list of s0.members) if (list.length > 0) anyVm = true;
	if (!anyVm && config.vmRefs.length === 0) return { ntol: m, breaking: null, exact: true, nodes: 0, provedByBound: m };
	let maxNeed = 0;
	for (const n of config.need) maxNeed = Math.max(maxNeed, n);
	const search: Search = { config, maxNeed, nodes: 0, nodeLimit: opts.nodeLimit ?? 5_000_000, scratch: new Float64Array(config.hostRefs.length), aborted: false };
	const lower = largestProvedDepth(config, s0, maxNeed);
	const witness = greedyDive(config, s0);
	// Failing every live host always strands the VMs; that is not reported as a breaking set.
	const upper = witness ? witness.hosts.length : m;
	for (let r = lower + 1; r < upper; r++) {
		const found = findFailure(search, s0, r);
		if (search.aborted) return { ntol: r - 1, breaking: witness, exact: false, nodes: search.nodes, provedByBound: lower };
		if (found) return { ntol: r - 1, breaking: found, exact: true, nodes: search.nodes, provedByBound: lower };
	}
	return { ntol: upper - 1, breaking: witness, exact: true, nodes: search.nodes, provedByBound: lower };
}
