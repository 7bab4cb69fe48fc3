import { failHost, failureSucceeds, initialState, type FailureState, type PlanConfig } from './config';
import { beamWitness, greedyDive, likelyOrders, localSearchWitness, type Breaking } from './witness';

/**
 * Exact tolerance under the toolstack's own placement rule, for any pool size.
 *
 * The question: the largest r such that every sequence of r distinct live hosts, failing one
 * after another and each re-packed by biggest-fit-decreasing, leaves no protected VM without
 * room. This is monotone in r (a failing sequence of length r is a prefix of sequences of every
 * greater length), so it is "length of the shortest failing sequence − 1", and on pools where
 * the toolstack enumerates (≤ 32 hosts, nPr < 3500) it is exactly the toolstack's answer.
 *
 * Enumerating m!/(m−r)! sequences is hopeless at 64 hosts, so the search is cut by a sound
 * bound. Notation, at the current state: free(h) ≥ … per live host, load(h) = memory of the
 * protected VMs on h, cap(h) = free(h) + load(h). cap is invariant while VMs move (what h gains
 * in VMs it loses in free memory), frees only ever decrease, and VMs on a host that does not
 * fail never move. Greedy strands a VM x (size s) only when every live host has < s free.
 *
 *   (a′) Let S be the hosts failed so far, the last of which, h, is being re-packed when x is
 *        placed. The live hosts' total free memory is then F − cap(S) + (h's VMs not yet
 *        placed), and those include x and every VM on h smaller than x (VMs go biggest first).
 *        Each survivor j has at most min(free_j, s) when x is stranded. So stranding needs
 *            load(S) + Σ_{j∈S} max(0, free_j − s) − small_h(s) ≥ s + Σ_j max(0, free_j − s)
 *        where small_h(s) is the memory of h's VMs smaller than s (a lower bound: its VMs now).
 *        Writing danger_s(j) = load(j) + max(0, free_j − s), a set S is harmless, in every
 *        order, when Σ_S danger_s − min_{h∈S} small_h(s) < budget(s) for every VM size s that
 *        can be stranded. Only actual VM sizes can be, and only sets holding the host where
 *        such a VM started (a VM moves only off failing hosts, so its whole path lies in S).
 *        So the bound is checked at each distinct size of the VMs that may move, with the VMs
 *        strictly smaller as small_h(s), over the sets that hold an owner of that size. (With
 *        very many distinct sizes, the root's bound merges them into intervals: the left side
 *        is piecewise linear in s, bending at the free memories, plus a step function, so
 *        checking interval ends and every free memory inside, each with the step function's
 *        value from the candidate below, still covers every size.)
 *   (b)  Let T_k be the sum of the k largest free memories. Placing a VM in the biggest host
 *        lowers T_k by at most the VM; a failed host lowers it by at most its free memory (the
 *        next host takes its place). So while the i-th failure is re-packed, the biggest host
 *        has ≥ (T_k − cap(first i failed) + s)/k, and x fits when T_k − Σcap ≥ (k − 1)·s_max
 *        for some k ≤ m − i.
 *
 * (a′) depends only on the *set* of failed hosts, so the search for a failing sequence of
 * length r enumerates sets of r hosts, most dangerous first, skipping a whole branch as soon as
 * its most dangerous completion stays under the budget; only sets neither bound clears have
 * their orders searched, depth first, re-applying the bound to the hosts still to fail (with
 * the VMs they now hold) and trying the children closest to a failure first. The adversaries
 * of witness.ts (dives, a beam search, a local search over sequences, likely orders of the
 * sets the bound cannot clear) supply short failing sequences: the witness, an upper limit.
 * Iterative deepening runs from the depth the bound proves at the root up to the witness.
 *
 * Every answer is exact when `exact` is true: the bound only skips what it has proved
 * harmless, and the property tests check it against the plain enumeration. What is not
 * guaranteed is the time: when the bound is one short of the truth on a big pool, the sets it
 * cannot clear can need a long search of orders. The node budget turns that into an explicit
 * `exact: false` with proved limits `ntol ≤ truth ≤ ntolUpper` rather than a hang.
 */

export interface ExactResult {
	ntol: number;
	/** Host ids in failure order whose failure leaves VMs without room, and those VM ids. */
	breaking: Breaking | null;
	/** True unless the node budget ran out or `atLeast` stopped the proofs (then ntol is a proved lower bound). */
	exact: boolean;
	/** Proved upper limit: equal to ntol when exact; otherwise a failing sequence one longer is known. */
	ntolUpper: number;
	nodes: number;
	/** Depths the bound proved without search. */
	provedByBound: number;
}

interface Search {
	config: PlanConfig;
	nodes: number;
	nodeLimit: number;
	scratch: Float64Array;
	aborted: boolean;
	prefixCache: Map<string, ReturnType<typeof failHost>>;
}

/** At most this many candidate VM sizes per bound (more are merged into intervals, still sound). */
const MAX_CANDIDATE_SIZES = 128;

/**
 * (b)'s table: best[K] = max over k ≤ K of T_k − (k − 1)·sMax, T_k the sum of the k largest free
 * memories (`freesAsc` ascending); all −Infinity when a free memory is negative.
 */
function bestTopFrees(freesAsc: Float64Array, sMax: number): Float64Array {
	const m = freesAsc.length;
	const best = new Float64Array(m + 1).fill(-Infinity);
	if (m > 0 && (freesAsc[0] as number) < 0) return best;
	let top = 0;
	let most = -Infinity;
	for (let k = 1; k <= m; k++) {
		top += freesAsc[m - k] as number;
		most = Math.max(most, top - (k - 1) * sMax);
		best[k] = most;
	}
	return best;
}

/** (b) for every step of any order of d failing hosts with these caps (descending), m live hosts. */
function holdsCapacity(best: Float64Array, m: number, capsDesc: ArrayLike<number>, d: number): boolean {
	let lost = 0;
	for (let i = 1; i <= d; i++) {
		lost += capsDesc[i - 1] as number;
		if ((best[m - i] as number) < lost) return false;
	}
	return true;
}

/**
 * What the bound knows of each host in a list, per candidate size c: `smalls[c][k]`, the memory
 * of the VMs on host k certainly still waiting when a VM of that size is placed, and (when the
 * candidates are the exact VM sizes) `owners[c][k]`, whether host k holds a VM of that size.
 */
export interface HostFacts {
	smalls: Float64Array[];
	owners: Uint8Array[] | null;
}

/**
 * The bound, prepared once per state and per set of sizes of VMs that may move. `holds` says
 * whether failures of given hosts can be shown harmless in any order, by (a′) (checked at every
 * candidate size) or by (b).
 *
 * Candidate sizes. When the movable VMs have at most MAX_CANDIDATE_SIZES distinct sizes, the
 * candidates are exactly those sizes (`exactSizes`): a stranded VM has one of them, the VMs
 * still waiting behind it are those strictly smaller, and the failed set must contain the
 * host it started on (a VM only ever moves from a failing host, so its whole path lies in the
 * failed set). Otherwise the candidates are a spread of the sizes plus every free memory
 * between the smallest and the biggest; each stands for the interval down to the previous
 * one, on which the linear part of (a′) bends only at free memories (so it is largest at an
 * end) and the small-VM term is least at the bottom: checking every candidate with the term of
 * its interval covers every size.
 */
export class Bound {
	readonly m: number;
	readonly sMax: number;
	readonly sizes: number[];
	readonly exactSizes: boolean;
	/** Per candidate size s: s + Σ max(0, free − s) over live hosts. */
	readonly budgets: number[];
	/** best[K] = max over k ≤ K of T_k − (k − 1)·sMax (variant b); −Infinity when a free memory is negative. */
	readonly best: Float64Array;

	/** `vmSizes`: the distinct sizes of the VMs that may move, ascending. */
	constructor(frees: number[], vmSizes: ArrayLike<number>, maxSizes = MAX_CANDIDATE_SIZES) {
		this.m = frees.length;
		const n = vmSizes.length;
		const sMin = vmSizes[0] as number;
		const sMax = vmSizes[n - 1] as number;
		this.sMax = sMax;
		this.exactSizes = n <= maxSizes;
		if (this.exactSizes) this.sizes = Array.from(vmSizes);
		else {
			const picked: number[] = [];
			const count = Math.max(2, maxSizes);
			for (let k = 0; k < count; k++) picked.push(vmSizes[Math.round((k * (n - 1)) / (count - 1))] as number);
			const inside = frees.filter((f) => f > sMin && f < sMax);
			this.sizes = [...new Set([...picked, ...inside])].sort((a, b) => a - b);
		}
		this.budgets = this.sizes.map((s) => {
			let excess = 0;
			for (const f of frees) excess += Math.max(0, f - s);
			return s + excess;
		});
		this.best = bestTopFrees(Float64Array.from(frees).sort(), sMax);
	}

	/** (a′) for VM size s: danger(h) = load(h) + max(0, free(h) − s). */
	static danger(free: number, load: number, s: number): number {
		return load + Math.max(0, free - s);
	}

	/** (b) for every step of any order of failing hosts with these caps (sorted descending). */
	holdsB(capsDesc: ArrayLike<number>, d: number): boolean {
		return holdsCapacity(this.best, this.m, capsDesc, d);
	}

	/**
	 * The largest (a′) value of a d-subset of these hosts at candidate size c:
	 * max over sets S (holding an owner of the size, when owners are known) of
	 * Σ_S danger − min_S small, i.e. max over the last host h of danger(h) − small(h) plus the
	 * d − 1 largest dangers of the others. `order` is scratch, returned sorted by danger.
	 */
	static worstSet(dangers: Float64Array, small: Float64Array, owner: Uint8Array | null, d: number, order: number[]): number {
		const n = dangers.length;
		order.sort((a, b) => (dangers[b] as number) - (dangers[a] as number));
		// Positions (in danger order) of the first owner; with no owner list every host is one.
		let firstOwner = owner ? n : 0;
		if (owner)
			for (let i = 0; i < n; i++)
				if (owner[order[i] as number]) {
					firstOwner = i;
					break;
				}
		if (firstOwner === n) return -Infinity;
		let topD = 0; // Σ of the d largest
		for (let i = 0; i < d; i++) topD += dangers[order[i] as number] as number;
		const topD1 = topD - (dangers[order[d - 1] as number] as number); // Σ of the d − 1 largest
		let worst = -Infinity;
		for (let p = 0; p < n; p++) {
			const h = order[p] as number;
			const dh = dangers[h] as number;
			// The d − 1 largest others: positions 0..d−1 without p, or 0..d−2.
			const inTop = p < d - 1;
			let others = inTop ? topD - dh : topD1;
			const lastPos = inTop ? d - 1 : d - 2;
			if (owner && !owner[h] && firstOwner > lastPos) {
				// No owner among them: the cheapest of them gives way to the best owner outside.
				if (lastPos < 0 || firstOwner === p) continue;
				others += (dangers[order[firstOwner] as number] as number) - (dangers[order[lastPos] as number] as number);
			}
			worst = Math.max(worst, dh - (small[h] as number) + others);
		}
		return worst;
	}

	/** Any d of these hosts (frees, loads, facts aligned with them), in any order: proved harmless? */
	holds(frees: ArrayLike<number>, loads: ArrayLike<number>, facts: HostFacts, d: number): boolean {
		return this.slack(frees, loads, facts, d) > 0;
	}

	/**
	 * How far any d of these hosts are from being able to strand a VM: > 0 proves every order of
	 * them harmless (+Infinity when (b) does); otherwise (a′)'s least margin, the smaller the
	 * closer to a failure (the search tries those first).
	 */
	slack(frees: ArrayLike<number>, loads: ArrayLike<number>, facts: HostFacts, d: number): number {
		if (d <= 0) return Infinity;
		const n = frees.length;
		if (d >= this.m || d > n) return -Infinity;
		let least = Infinity;
		const dangers = new Float64Array(n);
		const order = Array.from({ length: n }, (_, j) => j);
		for (let c = 0; c < this.sizes.length; c++) {
			const s = this.sizes[c] as number;
			for (let j = 0; j < n; j++) dangers[j] = Bound.danger(frees[j] as number, loads[j] as number, s);
			const worst = Bound.worstSet(dangers, facts.smalls[c] as Float64Array, facts.owners ? (facts.owners[c] as Uint8Array) : null, d, order);
			least = Math.min(least, (this.budgets[c] as number) - worst);
		}
		if (least > 0) return least;
		const caps = Float64Array.from({ length: n }, (_, j) => (frees[j] as number) + (loads[j] as number))
			.sort()
			.reverse();
		return this.holdsB(caps, d) ? Infinity : least;
	}
}

/**
 * The bound's per-host facts for `hosts` at state s. Small-VM memory is a step function of the
 * size: with exact sizes, VMs strictly smaller than the candidate; otherwise those no bigger
 * than the previous candidate (the least over the candidate's interval).
 */
function hostFacts(config: PlanConfig, s: FailureState, hosts: number[], bound: Bound): HostFacts {
	// Per host: needs sorted descending (ids are in that order) and their running sums, so the
	// memory of VMs below a size is the total minus a prefix found by binary search.
	const sorted = hosts.map((h) => Int32Array.from(s.members[h] ?? []).sort());
	const prefix = sorted.map((ids) => {
		const p = new Float64Array(ids.length + 1);
		ids.forEach((vm, k) => (p[k + 1] = (p[k] as number) + (config.need[vm] as number)));
		return p;
	});
	/** Memory of host k's VMs with need < limit (or ≤ limit when `inclusive`). */
	const below = (k: number, limit: number, inclusive: boolean): number => {
		const ids = sorted[k] as Int32Array;
		const p = prefix[k] as Float64Array;
		let lo = 0;
		let hi = ids.length; // first index whose need is below the limit
		while (lo < hi) {
			const mid = (lo + hi) >> 1;
			const need = config.need[ids[mid] as number] as number;
			if (inclusive ? need > limit : need >= limit) lo = mid + 1;
			else hi = mid;
		}
		return (p[ids.length] as number) - (p[lo] as number);
	};
	const smalls = bound.sizes.map((size, c) => {
		if (bound.exactSizes) return Float64Array.from(hosts, (_h, k) => below(k, size, false));
		if (c === 0) return new Float64Array(hosts.length);
		return Float64Array.from(hosts, (_h, k) => below(k, bound.sizes[c - 1] as number, true));
	});
	if (!bound.exactSizes) return { smalls, owners: null };
	const table = sizeTable(config);
	const index = new Map(bound.sizes.map((v, c) => [v, c]));
	const owners = bound.sizes.map(() => new Uint8Array(hosts.length));
	hosts.forEach((h, k) => {
		for (const vm of s.members[h] ?? []) {
			const c = index.get(table.sizes[table.rank[vm] as number] as number);
			if (c !== undefined) (owners[c] as Uint8Array)[k] = 1;
		}
	});
	return { smalls, owners };
}

function aliveHosts(s: FailureState): number[] {
	const hosts: number[] = [];
	for (let h = 0; h < s.alive.length; h++) if (s.alive[h]) hosts.push(h);
	return hosts;
}

/**
 * The distinct VM sizes of a configuration, ascending, and each VM's index (rank) among them,
 * with scratch space for `movableRanks` (the planner is single-threaded per worker).
 */
interface SizeTable {
	sizes: Float64Array;
	rank: Int32Array;
	/** All zero between calls. */
	mark: Uint8Array;
	ranks: Int32Array;
}

const sizeTables = new WeakMap<PlanConfig, SizeTable>();

function sizeTable(config: PlanConfig): SizeTable {
	let table = sizeTables.get(config);
	if (!table) {
		const sizes = Float64Array.from(new Set(config.need)).sort();
		const index = new Map(Array.from(sizes, (v, i) => [v, i]));
		const rank = Int32Array.from(config.need, (v) => index.get(v) as number);
		table = { sizes, rank, mark: new Uint8Array(sizes.length), ranks: new Int32Array(sizes.length) };
		sizeTables.set(config, table);
	}
	return table;
}

/**
 * Ranks of the distinct sizes of the VMs on these hosts (the only ones that can move),
 * ascending. A view of the table's scratch: valid until the next call.
 */
function movableRanks(config: PlanConfig, s: FailureState, hosts: Iterable<number>): Int32Array {
	const table = sizeTable(config);
	let count = 0;
	for (const h of hosts)
		for (const vm of s.members[h] ?? []) {
			const r = table.rank[vm] as number;
			if (!table.mark[r]) {
				table.mark[r] = 1;
				table.ranks[count++] = r;
			}
		}
	const sorted = table.ranks.subarray(0, count).sort();
	for (const r of sorted) table.mark[r] = 0;
	return sorted;
}

/** Distinct sizes of the VMs on these hosts, ascending; empty if none. */
function movableSizes(config: PlanConfig, s: FailureState, hosts: Iterable<number>): number[] {
	const table = sizeTable(config);
	return Array.from(movableRanks(config, s, hosts), (r) => table.sizes[r] as number);
}

function boundFor(s: FailureState, vmSizes: number[], maxSizes?: number): Bound {
	return new Bound(aliveHosts(s).map((h) => s.free[h] as number), vmSizes, maxSizes);
}

/** The root bound from state s: can d more failures of any live hosts, in any order, be shown harmless? */
function rootProof(config: PlanConfig, s: FailureState, maxSizes?: number): (d: number) => boolean {
	const hosts = aliveHosts(s);
	const sizes = movableSizes(config, s, hosts);
	if (sizes.length === 0 || (sizes[sizes.length - 1] as number) === 0) return () => true;
	const bound = boundFor(s, sizes, maxSizes);
	const frees = hosts.map((h) => s.free[h] as number);
	const hostLoads = hosts.map((h) => s.load[h] as number);
	const facts = hostFacts(config, s, hosts, bound);
	return (d) => bound.holds(frees, hostLoads, facts, d);
}

/** `rootProof` for one d; `maxSizes` caps the candidate sizes (tests lower it to exercise the merged-interval form). */
export function provedSafe(config: PlanConfig, s: FailureState, d: number, maxSizes?: number): boolean {
	return rootProof(config, s, maxSizes)(d);
}

/** The most failures the bound proves harmless from state s (at most `cap`), with one bound for every depth. */
function largestProvedDepth(config: PlanConfig, s: FailureState, cap = Infinity): number {
	const proves = rootProof(config, s);
	let d = 0;
	while (d < cap && d + 1 < s.aliveCount && proves(d + 1)) d++;
	return d;
}

/** Scratch arrays for `setSlack`, per configuration (the planner is single-threaded per worker). */
interface SlackScratch {
	/** Per size rank: memory of one host's VMs of that size (zero between hosts). */
	bucket: Float64Array;
	/** Per movable size (ascending): the (a′) margin before the last host's waiting VMs. */
	margin: Float64Array;
	frees: Float64Array;
}

const slackScratch = new WeakMap<PlanConfig, SlackScratch>();

/**
 * The bound's slack for exactly the hosts in `remaining` failing, in any order, from state s:
 * (a′) for the one set R = remaining at every size of a VM on R (a stranded VM has one of these
 * sizes and started on R, so each candidate has its owner in R), i.e.
 *   budget(s) − (Σ_R load + Σ_R max(0, free − s) − min_{h∈R} small_h(s)),
 * and (b) when (a′) does not clear it. The last host h must hold the stranded VM: it has one of
 * that size already or room to receive one (frees only fall), so only such hosts count in the
 * minimum. `lastSlack[k]`, when given, is the slack with remaining[k] as the last to fail: where
 * it is > 0 that host cannot be last (the search then never fails it while it is the only
 * candidate left). Written without allocation: it runs at every node of the order search.
 */
function setSlack(config: PlanConfig, s: FailureState, remaining: number[], lastSlack?: Float64Array): number {
	const table = sizeTable(config);
	const t = table.sizes.length;
	let scratch = slackScratch.get(config);
	if (!scratch) {
		scratch = { bucket: new Float64Array(t), margin: new Float64Array(t), frees: new Float64Array(s.alive.length) };
		slackScratch.set(config, scratch);
	}
	const { bucket, margin, frees } = scratch;
	if (lastSlack) lastSlack.fill(Infinity, 0, remaining.length);
	const sorted = movableRanks(config, s, remaining);
	const count = sorted.length;
	if (count === 0) return Infinity;
	let loadR = 0;
	for (const h of remaining) loadR += s.load[h] as number;
	// Per size: budget − (Σ_R load + Σ_R max(0, free − s)), with the live hosts' free memory
	// ascending, walked from the top.
	let alive = 0;
	for (let h = 0; h < s.alive.length; h++) if (s.alive[h]) frees[alive++] = s.free[h] as number;
	const live = frees.subarray(0, alive).sort();
	let above = alive; // the `above` largest frees are greater than the current size
	let aboveSum = 0;
	for (let i = 0; i < alive; i++) aboveSum += live[i] as number;
	for (let i = 0; i < count; i++) {
		const size = table.sizes[sorted[i] as number] as number;
		while (above > 0 && (live[alive - above] as number) <= size) {
			aboveSum -= live[alive - above] as number;
			above--;
		}
		let danger = loadR;
		for (const h of remaining) danger += Math.max(0, (s.free[h] as number) - size);
		margin[i] = size + aboveSum - above * size - danger;
	}
	// Each host as the last to fail: its VMs smaller than the stranded one still wait on it. Only
	// a host that holds a VM of that size, or has room to receive one (frees only fall), can be.
	let least = Infinity;
	for (let k = 0; k < remaining.length; k++) {
		const h = remaining[k] as number;
		for (const vm of s.members[h] ?? []) {
			const r = table.rank[vm] as number;
			bucket[r] = (bucket[r] as number) + (config.need[vm] as number);
		}
		const free = s.free[h] as number;
		let below = 0;
		let own = Infinity;
		for (let i = 0; i < count; i++) {
			const r = sorted[i] as number;
			const held = bucket[r] as number;
			const size = table.sizes[r] as number;
			if (held > 0 || free >= size || size <= 0) own = Math.min(own, (margin[i] as number) + below);
			below += held;
			bucket[r] = 0;
		}
		if (lastSlack) lastSlack[k] = own;
		least = Math.min(least, own);
	}
	if (least > 0) return least;
	// (b): the sum of the k largest frees against what any order of R's failures can take.
	if (remaining.length >= alive) return least;
	const sMax = table.sizes[sorted[count - 1] as number] as number;
	const caps = remaining.map((h) => (s.free[h] as number) + (s.load[h] as number)).sort((a, b) => b - a);
	if (!holdsCapacity(bestTopFrees(live, sMax), alive, caps, remaining.length)) return least;
	if (lastSlack) lastSlack.fill(Infinity, 0, remaining.length);
	return Infinity;
}

/**
 * Is there an order of failing exactly the hosts in `remaining` (from state s, where the bound
 * did not clear them) that strands a VM? Depth-first over orders. Each child state is built
 * and bounded before any is entered: children the bound clears (restricted to the hosts still
 * to fail and the VMs they hold, the only ones that can still move) are cut, and the others are
 * tried closest to a failure first, so a failing order, when there is one, tends to come early.
 */
function orderThatFails(search: Search, s: FailureState, remaining: number[], lastSlack: Float64Array, prefix: string, tracked: Uint8Array, depth = 0): Breaking | null {
	if (search.aborted) return null;
	if (++search.nodes > search.nodeLimit) {
		search.aborted = true;
		return null;
	}
	// Every shorter sequence is known to succeed, so a failure can only come at the last step,
	// on a host that can be last (lastSlack ≤ 0).
	let canBeLast = 0;
	for (let k = 0; k < remaining.length; k++) if ((lastSlack[k] as number) <= 0) canBeLast++;
	if (canBeLast === 0) return null;
	if (remaining.length === 1) {
		const h = remaining[0] as number;
		if (failureSucceeds(search.config, s, h, search.scratch)) return null;
		const failed = failHost(search.config, s, h);
		return failed.ok ? null : { hosts: [h], vms: failed.unplaced };
	}
	const children: { h: number; state: FailureState; rest: number[]; key: string; slack: number; lastSlack: Float64Array }[] = [];
	for (let k = 0; k < remaining.length; k++) {
		const h = remaining[k] as number;
		// Failing the only host that can be last leaves none to strand a VM at the end.
		if (canBeLast === 1 && (lastSlack[k] as number) <= 0) continue;
		const rest = remaining.filter((x) => x !== h);
		// The first two failures from the root are shared by many sets: those states are kept
		// whole (every host tracked) and cached; deeper ones are the set's own.
		const shared = depth < SHARED_PREFIX_DEPTH;
		const key = shared ? `${prefix},${h}` : '';
		let next = shared ? search.prefixCache.get(key) : undefined;
		if (!next) {
			next = failHost(search.config, s, h, shared ? undefined : tracked);
			if (shared && search.prefixCache.size < 4_096) search.prefixCache.set(key, next);
		}
		if (!next.ok) return { hosts: [h], vms: next.unplaced };
		if (rest.length === 1) {
			// Cheaper to try the last failure than to bound it.
			const last = rest[0] as number;
			if (failureSucceeds(search.config, next.state, last, search.scratch)) continue;
			const failed = failHost(search.config, next.state, last);
			if (!failed.ok) return { hosts: [h, last], vms: failed.unplaced };
			continue;
		}
		const childLast = new Float64Array(rest.length);
		const slack = setSlack(search.config, next.state, rest, childLast);
		if (slack > 0) continue;
		children.push({ h, state: next.state, rest, key, slack, lastSlack: childLast });
	}
	children.sort((a, b) => a.slack - b.slack);
	for (const child of children) {
		const deeper = orderThatFails(search, child.state, child.rest, child.lastSlack, child.key, tracked, depth + 1);
		if (deeper) return { hosts: [child.h, ...deeper.hosts], vms: deeper.vms };
		if (search.aborted) return null;
	}
	return null;
}

/**
 * A failing sequence of exactly r failures, or null. Bound (a′) depends only on the *set* of
 * failed hosts, through the sum of their dangers for each VM size s, so for each candidate s
 * the sets are enumerated most dangerous hosts first, and a whole branch is skipped as soon as
 * its most dangerous completion stays within that size's budget (every other completion has
 * smaller dangers, position by position). A set the bound clears at every size (or by (b)) is
 * harmless; the orders of the others are searched.
 */
function findFailure(search: Search, s0: FailureState, r: number, quick?: { sets: number }): Breaking | null {
	const load = s0.load;
	const hosts = aliveHosts(s0);
	const sizes = movableSizes(search.config, s0, hosts);
	if (sizes.length === 0) return null;
	const bound = boundFor(s0, sizes);
	const checked = new Set<string>();
	const facts = hostFacts(search.config, s0, hosts, bound);
	const hostIndex = new Map(hosts.map((h, k) => [h, k]));
	for (let c = 0; c < bound.sizes.length; c++) {
		const size = bound.sizes[c] as number;
		const budget = bound.budgets[c] as number;
		const smallRow = facts.smalls[c] as Float64Array;
		const ownerRow = facts.owners ? (facts.owners[c] as Uint8Array) : null;
		const small = (h: number) => smallRow[hostIndex.get(h) as number] as number;
		const owns = (h: number) => !ownerRow || ownerRow[hostIndex.get(h) as number] === 1;
		const danger = (h: number) => Bound.danger(s0.free[h] as number, load[h] as number, size);
		const order = [...hosts].sort((a, b) => danger(b) - danger(a) || a - b);
		const dangers = order.map(danger);
		// suffixMinSmall[idx]: the least "still waiting" memory among order[idx..]; suffixOwner: any owner there.
		const suffixMinSmall = new Float64Array(order.length + 1).fill(Infinity);
		const suffixOwner = new Uint8Array(order.length + 1);
		for (let idx = order.length - 1; idx >= 0; idx--) {
			suffixMinSmall[idx] = Math.min(suffixMinSmall[idx + 1] as number, small(order[idx] as number));
			suffixOwner[idx] = (suffixOwner[idx + 1] as number) | (owns(order[idx] as number) ? 1 : 0);
		}
		const chosen: number[] = [];
		const chosenMinSmall: number[] = [Infinity];
		let chosenOwners = 0;
		let chosenDanger = 0;
		const visit = (start: number): Breaking | null => {
			if (chosen.length === r) {
				const key = [...chosen].sort((a, b) => a - b).join(',');
				if (checked.has(key)) return null;
				checked.add(key);
				// Cleared at every size with this set's own figures?
				const lastSlack = new Float64Array(chosen.length);
				if (setSlack(search.config, s0, chosen, lastSlack) > 0) return null;
				if (quick) {
					if (--quick.sets < 0) {
						search.aborted = true;
						return null;
					}
					return likelyOrders(search.config, s0, chosen);
				}
				// Past the shared prefixes only the set's own hosts are read, so only theirs are tracked.
				const tracked = new Uint8Array(s0.alive.length);
				for (const h of chosen) tracked[h] = 1;
				return orderThatFails(search, s0, chosen.slice(), lastSlack, '', tracked);
			}
			const need = r - chosen.length;
			for (let idx = start; idx <= order.length - need; idx++) {
				if (search.aborted) return null;
				// The stranded VM started on a failed host: a set of this size must hold one of its owners.
				if (chosenOwners === 0 && !suffixOwner[idx]) break;
				const h = order[idx] as number;
				if (chosenOwners === 0 && need === 1 && !owns(h)) continue;
				let completion = chosenDanger;
				for (let k = 0; k < need; k++) completion += dangers[idx + k] as number;
				const minSmall = Math.min(chosenMinSmall[chosenMinSmall.length - 1] as number, suffixMinSmall[idx] as number);
				if (completion - (Number.isFinite(minSmall) ? minSmall : 0) < budget) break;
				chosen.push(h);
				chosenMinSmall.push(Math.min(chosenMinSmall[chosenMinSmall.length - 1] as number, small(h)));
				chosenDanger += dangers[idx] as number;
				const owner = owns(h) ? 1 : 0;
				chosenOwners += owner;
				const found = visit(idx + 1);
				chosenOwners -= owner;
				chosen.pop();
				chosenMinSmall.pop();
				chosenDanger -= dangers[idx] as number;
				if (found) return found;
			}
			return null;
		};
		const found = visit(0);
		if (found || search.aborted) return found;
	}
	return null;
}

/** Failures from the root whose states are cached whole and shared between the sets searched. */
const SHARED_PREFIX_DEPTH = 2;

/** About a second of search on this class of machine; callers may raise it. */
export const DEFAULT_NODE_LIMIT = 12_000;

/** Order nodes of the first, short search, before the local search is worth its time. */
const FIRST_PASS_NODES = 1_000;

/** Host failures the local search replays per length it tries (6,000 sequences of 10). */
export const DEFAULT_LOCAL_FAILURES = 60_000;

export interface ExactOptions {
	nodeLimit?: number;
	start?: FailureState;
	beamWidth?: number;
	quickSets?: number;
	localEvaluations?: number;
	/**
	 * Only ask whether the tolerance reaches this many failures: proofs stop there, and an
	 * answer of `atLeast` means "at least that many" (`exact` false unless it is the truth).
	 * What-if searches (fixes) ask this many times, and rarely need more.
	 */
	atLeast?: number;
}

export function exactNtol(config: PlanConfig, opts: ExactOptions = {}): ExactResult {
	const s0 = opts.start ?? initialState(config);
	const m = s0.aliveCount;
	let anyVm = false;
	for (const list of s0.members) if (list.length > 0) anyVm = true;
	if (!anyVm && config.vmRefs.length === 0) return { ntol: m, ntolUpper: m, breaking: null, exact: true, nodes: 0, provedByBound: m };
	let maxNeed = 0;
	for (const n of config.need) maxNeed = Math.max(maxNeed, n);
	const search: Search = { config, nodes: 0, nodeLimit: opts.nodeLimit ?? DEFAULT_NODE_LIMIT, scratch: new Float64Array(config.hostRefs.length), aborted: false, prefixCache: new Map() };
	const cap = opts.atLeast ?? Infinity;
	const lower = largestProvedDepth(config, s0, cap);
	if (lower >= cap) return { ntol: lower, ntolUpper: m - 1, breaking: null, exact: lower >= m - 1, nodes: 0, provedByBound: lower };
	let witness = greedyDive(config, s0, search.scratch);
	// The bound is usually tight or one short: look hard for a failure right above it.
	for (let r = lower + 1; r <= lower + 2 && (!witness || r < witness.hosts.length) && r < m; r++) {
		// A beam step costs width × live hosts failures: narrower on deep searches.
		const found = beamWitness(config, s0, r, opts.beamWidth ?? Math.max(2, Math.min(12, Math.floor(120 / r))), maxNeed, search.scratch);
		if (found) {
			witness = found;
			break;
		}
	}
	// Then a quick pass over the sets the bound cannot clear, trying likely orders only.
	if (lower + 1 < m && (!witness || witness.hosts.length > lower + 1)) {
		const quick = findFailure({ ...search, aborted: false }, s0, lower + 1, { sets: opts.quickSets ?? 300 });
		if (quick && quick.hosts.length === lower + 1) witness = quick;
	}
	const budget = search.nodeLimit;
	let proved = lower; // every sequence of up to `proved` failures is known to succeed
	const deepen = (limit: number): Breaking | 'aborted' | null => {
		search.nodeLimit = limit;
		search.aborted = false;
		const upper = Math.min(witness ? witness.hosts.length : m, cap + 1);
		for (let r = proved + 1; r < upper; r++) {
			const found = findFailure(search, s0, r);
			if (search.aborted) return 'aborted';
			if (found) return found;
			proved = r;
		}
		return null;
	};
	// A short search settles most pools; the costlier local search runs only when it does not.
	let outcome = deepen(Math.min(budget, FIRST_PASS_NODES));
	if (outcome === 'aborted') {
		// Failing orders can be rare needles, commoner the longer the sequence: a local search of
		// sequences, one failure shorter each time it succeeds, finds many of them fast.
		for (let r = Math.min((witness?.hosts.length ?? 0) - 1, cap); witness && r > proved; r = witness.hosts.length - 1) {
			// A replay costs r failures: the budget is in failures, whatever the depth.
			const found = localSearchWitness(config, s0, r, opts.localEvaluations ?? Math.max(300, Math.min(6_000, Math.floor(DEFAULT_LOCAL_FAILURES / r))));
			if (!found) break;
			witness = found;
		}
		outcome = deepen(budget);
	}
	// Failing every live host always strands the VMs; that is not reported as a breaking set.
	const known = witness && witness.hosts.length < m ? witness : null;
	if (outcome === null && proved >= cap && (!witness || witness.hosts.length > cap + 1))
		return { ntol: proved, ntolUpper: (witness ? witness.hosts.length : m) - 1, breaking: known, exact: false, nodes: search.nodes, provedByBound: lower };
	if (outcome === 'aborted') return { ntol: proved, ntolUpper: (witness ? witness.hosts.length : m) - 1, breaking: known, exact: false, nodes: search.nodes, provedByBound: lower };
	if (outcome) return { ntol: proved, ntolUpper: proved, breaking: outcome, exact: true, nodes: search.nodes, provedByBound: lower };
	return { ntol: proved, ntolUpper: proved, breaking: known, exact: true, nodes: search.nodes, provedByBound: lower };
}
