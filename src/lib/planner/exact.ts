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
 *   Let cap(h) = free(h) + memory of the protected VMs on h. It is invariant while VMs move
 *   (what h gains in VMs it loses in free memory). Let C_i be the sum of the i largest caps
 *   among the m live hosts, s the largest protected VM. Greedy strands a VM only when the
 *   biggest host has less free memory than the VM, so it suffices to show the biggest host
 *   always has ≥ s free while the i-th further failure is being re-packed, for i = 1..d:
 *
 *   (a) Average: the total free memory of the live hosts starts at F. A failure of h removes
 *       free(h) from it and then places load(h) on others: cap(h) in all. During the i-th
 *       failure the total is ≥ F − C_i over m − i hosts, so the biggest has ≥ (F − C_i)/(m − i).
 *   (b) Top k: let T_k be the sum of the k largest free memories (all ≥ 0), k ≤ m − i.
 *       Placing an item into the biggest host lowers T_k by at most the item; removing a
 *       failed host lowers it by at most that host's free memory (the next one, free ≥ 0,
 *       takes its place). So T_k ≥ T_k − C_i during the i-th failure and the biggest host
 *       has ≥ (T_k − C_i)/k.
 *
 *   Sharper: when a VM of size s is about to be placed it is itself not yet placed, so the
 *   totals above are at least s higher than stated; a VM is stranded only if every host is
 *   below s, i.e. only if F − C_i + s < (m − i)·s, or T_k − C_i + s < k·s. So the i-th failure
 *   is harmless when F − C_i ≥ (m − i − 1)·s or T_k − C_i ≥ (k − 1)·s for some k ≤ m − i.
 *   If that holds for every i ≤ d, no sequence of d more failures, in any order, can strand
 *   a VM.
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
	prefixCache: Map<string, ReturnType<typeof failHost>>;
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

/**
 * The bound above, prepared once per state: `holds(caps, d)` says whether d failures of hosts
 * whose caps (sorted descending) are given can be shown harmless in any order.
 */
export class Bound {
	readonly m: number;
	readonly total: number;
	readonly maxNeed: number;
	/** best[K] = max over k ≤ K of T_k − (k − 1)·s; −Infinity when a free memory is negative. */
	readonly best: Float64Array;

	constructor(frees: number[], maxNeed: number) {
		this.m = frees.length;
		this.maxNeed = maxNeed;
		let total = 0;
		let negative = false;
		for (const f of frees) {
			total += f;
			if (f < 0) negative = true;
		}
		this.total = total;
		this.best = new Float64Array(this.m + 1).fill(-Infinity);
		if (!negative) {
			const sorted = [...frees].sort((a, b) => b - a);
			let top = 0;
			let best = -Infinity;
			for (let k = 1; k <= this.m; k++) {
				top += sorted[k - 1] as number;
				best = Math.max(best, top - (k - 1) * maxNeed);
				this.best[k] = best;
			}
		}
	}

	holds(capsDesc: ArrayLike<number>, d: number): boolean {
		if (d <= 0) return true;
		if (d >= this.m) return false;
		let lost = 0;
		for (let i = 1; i <= d; i++) {
			lost += capsDesc[i - 1] as number;
			if (this.total - lost >= (this.m - i - 1) * this.maxNeed) continue;
			if ((this.best[this.m - i] as number) >= lost) continue;
			return false;
		}
		return true;
	}
}

function aliveFrees(s: FailureState): number[] {
	const frees: number[] = [];
	for (let h = 0; h < s.alive.length; h++) if (s.alive[h]) frees.push(s.free[h] as number);
	return frees;
}

function capsOf(s: FailureState, load: Float64Array, hosts: Iterable<number>): number[] {
	const caps: number[] = [];
	for (const h of hosts) caps.push((s.free[h] as number) + (load[h] as number));
	return caps.sort((a, b) => b - a);
}

function aliveHosts(s: FailureState): number[] {
	const hosts: number[] = [];
	for (let h = 0; h < s.alive.length; h++) if (s.alive[h]) hosts.push(h);
	return hosts;
}

/** Can d more failures of any live hosts, in any order, be shown harmless? */
export function provedSafe(config: PlanConfig, s: FailureState, d: number, maxNeed: number): boolean {
	return new Bound(aliveFrees(s), maxNeed).holds(capsOf(s, loads(config, s), aliveHosts(s)), d);
}

function largestProvedDepth(config: PlanConfig, s: FailureState, maxNeed: number): number {
	const bound = new Bound(aliveFrees(s), maxNeed);
	const caps = capsOf(s, loads(config, s), aliveHosts(s));
	let d = 0;
	while (d + 1 < s.aliveCount && bound.holds(caps, d + 1)) d++;
	return d;
}

/**
 * Is there an order of failing exactly the hosts in `remaining` (from state s) that strands a
 * VM? Depth-first over orders; a node is cut when the bound, restricted to the hosts still to
 * fail, proves every order of them harmless.
 */
function orderThatFails(search: Search, s: FailureState, remaining: number[], prefix: string): { hosts: number[]; vms: number[] } | null {
	if (search.aborted) return null;
	if (++search.nodes > search.nodeLimit) {
		search.aborted = true;
		return null;
	}
	const load = loads(search.config, s);
	// Only VMs now on the hosts still to fail can move again: the largest of them is what
	// must find room, not the largest in the pool.
	let movable = 0;
	for (const h of remaining) for (const vm of s.members[h] ?? []) movable = Math.max(movable, search.config.need[vm] as number);
	if (movable === 0) return null;
	if (new Bound(aliveFrees(s), movable).holds(capsOf(s, load, remaining), remaining.length)) return null;
	for (const h of remaining) {
		const rest = remaining.filter((x) => x !== h);
		if (rest.length === 0) {
			if (failureSucceeds(search.config, s, h, search.scratch)) continue;
			const failed = failHost(search.config, s, h);
			return failed.ok ? null : { hosts: [h], vms: failed.unplaced };
		}
		const key = `${prefix},${h}`;
		let next = search.prefixCache.get(key);
		if (!next) {
			next = failHost(search.config, s, h);
			if (search.prefixCache.size < 20_000) search.prefixCache.set(key, next);
		}
		if (!next.ok) return { hosts: [h], vms: next.unplaced };
		const deeper = orderThatFails(search, next.state, rest, key);
		if (deeper) return { hosts: [h, ...deeper.hosts], vms: deeper.vms };
		if (search.aborted) return null;
	}
	return null;
}

/**
 * A failing sequence of exactly r failures, or null. The bound depends only on the *set* of
 * failed hosts (through their caps), so sets are enumerated first, largest caps first, and a
 * whole branch of sets is skipped as soon as its most dangerous completion is proved safe
 * (every other completion has smaller caps, position by position); only the sets the bound
 * cannot clear have their orders searched.
 */
function findFailure(search: Search, s0: FailureState, r: number): { hosts: number[]; vms: number[] } | null {
	const load = loads(search.config, s0);
	const hosts = aliveHosts(s0);
	const cap = (h: number) => (s0.free[h] as number) + (load[h] as number);
	hosts.sort((a, b) => cap(b) - cap(a) || a - b);
	const caps = hosts.map(cap);
	const bound = new Bound(aliveFrees(s0), search.maxNeed);
	const chosen: number[] = [];
	const chosenCaps: number[] = [];
	const trial = new Float64Array(r);
	const completionSafe = (from: number): boolean => {
		// Chosen caps and caps[from..] are both descending, and every chosen one comes first.
		let k = 0;
		for (const c of chosenCaps) trial[k++] = c;
		for (let idx = from; k < r; idx++) trial[k++] = caps[idx] as number;
		return bound.holds(trial, r);
	};
	const visit = (start: number): { hosts: number[]; vms: number[] } | null => {
		if (chosen.length === r) return orderThatFails(search, s0, chosen.slice(), '');
		for (let idx = start; idx <= hosts.length - (r - chosen.length); idx++) {
			if (search.aborted) return null;
			if (completionSafe(idx)) break;
			chosen.push(hosts[idx] as number);
			chosenCaps.push(caps[idx] as number);
			const found = visit(idx + 1);
			chosen.pop();
			chosenCaps.pop();
			if (found) return found;
		}
		return null;
	};
	return visit(0);
}

type Policy = (config: PlanConfig, s: FailureState, load: Float64Array, h: number) => number;

/** Adversary policies for the dive: whom to fail next (highest score). */
const POLICIES: Policy[] = [
	(_c, s, load, h) => (s.free[h] as number) + (load[h] as number), // most capacity lost
	(_c, s, _load, h) => s.free[h] as number, // the host that would absorb most
	(_c, _s, load, h) => load[h] as number // most VMs to move
];

/**
 * A quick witness: fail hosts one by one following an adversary policy, and at every depth try
 * each live host as the finishing blow. The shortest failing sequence found over all policies
 * is an upper limit on the tolerance (+1) and, when it meets the proved lower limit, the answer.
 */
function greedyDive(config: PlanConfig, s0: FailureState, scratch: Float64Array): { hosts: number[]; vms: number[] } | null {
	let best: { hosts: number[]; vms: number[] } | null = null;
	for (const policy of POLICIES) {
		let s = s0;
		const seq: number[] = [];
		while (s.aliveCount > 1 && (!best || seq.length + 1 < best.hosts.length)) {
			let finished = false;
			for (let h = 0; h < s.alive.length; h++) {
				if (!s.alive[h] || failureSucceeds(config, s, h, scratch)) continue;
				const failed = failHost(config, s, h);
				if (!failed.ok) best = { hosts: [...seq, h], vms: failed.unplaced };
				finished = true;
				break;
			}
			if (finished) break;
			const load = loads(config, s);
			let pick = -1;
			for (let h = 0; h < s.alive.length; h++) if (s.alive[h] && (pick < 0 || policy(config, s, load, h) > policy(config, s, load, pick))) pick = h;
			const next = failHost(config, s, pick);
			if (!next.ok) break;
			seq.push(pick);
			s = next.state;
		}
	}
	return best;
}

/**
 * Beam search adversary: look for a failing sequence of exactly `target` failures, keeping the
 * `width` most dangerous states per depth.
 */
function beamWitness(config: PlanConfig, s0: FailureState, target: number, width: number, maxNeed: number, scratch: Float64Array): { hosts: number[]; vms: number[] } | null {
	type Node = { s: FailureState; seq: number[]; score: number };
	let beam: Node[] = [{ s: s0, seq: [], score: 0 }];
	for (let depth = 1; depth <= target; depth++) {
		const remaining = target - depth;
		const children: Node[] = [];
		const seen = new Set<string>();
		for (const node of beam) {
			for (let h = 0; h < node.s.alive.length; h++) {
				if (!node.s.alive[h]) continue;
				if (remaining === 0) {
					if (failureSucceeds(config, node.s, h, scratch)) continue;
					const failed = failHost(config, node.s, h);
					if (!failed.ok) return { hosts: [...node.seq, h], vms: failed.unplaced };
					continue;
				}
				const next = failHost(config, node.s, h);
				if (!next.ok) return { hosts: [...node.seq, h], vms: next.unplaced };
				const key = Array.from(next.state.free, (f) => Math.round(f / 1048576)).join(',');
				if (seen.has(key)) continue;
				seen.add(key);
				children.push({ s: next.state, seq: [...node.seq, h], score: danger(config, next.state, remaining, maxNeed) });
			}
		}
		children.sort((a, b) => a.score - b.score);
		beam = children.slice(0, width);
	}
	return null;
}

/** Lower is more dangerous: the average bound's margin after the worst `d` further failures. */
function danger(config: PlanConfig, s: FailureState, d: number, maxNeed: number): number {
	const load = loads(config, s);
	const caps = capsOf(s, load, aliveHosts(s));
	let total = 0;
	for (const f of aliveFrees(s)) total += f;
	let lost = 0;
	for (let i = 0; i < d; i++) lost += caps[i] as number;
	return total - lost - (s.aliveCount - d - 1) * maxNeed;
}

export function exactNtol(config: PlanConfig, opts: { nodeLimit?: number; start?: FailureState; beamWidth?: number } = {}): ExactResult {
	const s0 = opts.start ?? initialState(config);
	const m = s0.aliveCount;
	let anyVm = false;
	for (const list of s0.members) if (list.length > 0) anyVm = true;
	if (!anyVm && config.vmRefs.length === 0) return { ntol: m, breaking: null, exact: true, nodes: 0, provedByBound: m };
	let maxNeed = 0;
	for (const n of config.need) maxNeed = Math.max(maxNeed, n);
	const search: Search = { config, maxNeed, nodes: 0, nodeLimit: opts.nodeLimit ?? 5_000_000, scratch: new Float64Array(config.hostRefs.length), aborted: false, prefixCache: new Map() };
	const lower = largestProvedDepth(config, s0, maxNeed);
	let witness = greedyDive(config, s0, search.scratch);
	// The bound is usually tight or one short: look hard for a failure right above it.
	for (let r = lower + 1; r <= lower + 2 && (!witness || r < witness.hosts.length) && r < m; r++) {
		const found = beamWitness(config, s0, r, opts.beamWidth ?? 24, maxNeed, search.scratch);
		if (found) {
			witness = found;
			break;
		}
	}
	// Failing every live host always strands the VMs; that is not reported as a breaking set.
	const upper = witness ? witness.hosts.length : m;
	for (let r = lower + 1; r < upper; r++) {
		const found = findFailure(search, s0, r);
		if (search.aborted) return { ntol: r - 1, breaking: witness, exact: false, nodes: search.nodes, provedByBound: lower };
		if (found) return { ntol: r - 1, breaking: found, exact: true, nodes: search.nodes, provedByBound: lower };
	}
	return { ntol: upper - 1, breaking: witness, exact: true, nodes: search.nodes, provedByBound: lower };
}
