import { seededRandom } from '../seeded-random';
import { applyFailure, failHost, failureSucceeds, type FailureState, type PlanConfig } from './config';

/**
 * Adversaries: heuristics that look for a short failing sequence of host failures. What they
 * find is replayed for real, so it is always a true failure and an upper limit on the tolerance
 * (its length − 1); what they miss proves nothing. The exact search (exact.ts) uses them to stop
 * early: when a failing sequence is one longer than what the bound proves, the answer is known.
 */

/** Host ids in failure order whose failure leaves VMs without room, and those VM ids. */
export interface Breaking {
	hosts: number[];
	vms: number[];
}

type Policy = (s: FailureState, h: number) => number;

/** Adversary policies for the dive: whom to fail next (highest score). */
const POLICIES: Policy[] = [
	(s, h) => (s.free[h] as number) + (s.load[h] as number), // most capacity lost
	(s, h) => s.free[h] as number, // the host that would absorb most
	(s, h) => s.load[h] as number // most VMs to move
];

/**
 * Fail hosts one by one following an adversary policy, and at every depth try each live host
 * as the finishing blow. The shortest failing sequence over all policies.
 */
export function greedyDive(config: PlanConfig, s0: FailureState, scratch: Float64Array): Breaking | null {
	let best: Breaking | null = null;
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
			let pick = -1;
			for (let h = 0; h < s.alive.length; h++) if (s.alive[h] && (pick < 0 || policy(s, h) > policy(s, pick))) pick = h;
			const next = failHost(config, s, pick);
			if (!next.ok) break;
			seq.push(pick);
			s = next.state;
		}
	}
	return best;
}

/** Lower is more dangerous: the volume margin at the largest VM after the worst `d` further failures. */
function volumeMargin(s: FailureState, d: number, maxNeed: number): number {
	let budget = maxNeed;
	const dangers: number[] = [];
	for (let h = 0; h < s.alive.length; h++) {
		if (!s.alive[h]) continue;
		const excess = Math.max(0, (s.free[h] as number) - maxNeed);
		budget += excess;
		dangers.push((s.load[h] as number) + excess);
	}
	dangers.sort((a, b) => b - a);
	let lost = 0;
	for (let i = 0; i < d; i++) lost += dangers[i] ?? 0;
	return budget - lost;
}

/**
 * Beam search: a failing sequence of exactly `target` failures, keeping the `width` states
 * closest to a failure per depth.
 */
export function beamWitness(config: PlanConfig, s0: FailureState, target: number, width: number, maxNeed: number, scratch: Float64Array): Breaking | null {
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
				children.push({ s: next.state, seq: [...node.seq, h], score: volumeMargin(next.state, remaining, maxNeed) });
			}
		}
		children.sort((a, b) => a.score - b.score);
		beam = children.slice(0, width);
	}
	return null;
}

/**
 * A few likely orders for a set of hosts: most free memory first (they would absorb the rest)
 * with the host holding the biggest VM last; or most capacity first.
 */
export function likelyOrders(config: PlanConfig, s0: FailureState, set: number[]): Breaking | null {
	const biggest = (h: number) => {
		let b = 0;
		for (const vm of s0.members[h] ?? []) b = Math.max(b, config.need[vm] as number);
		return b;
	};
	const byFree = [...set].sort((a, b) => (s0.free[b] as number) - (s0.free[a] as number));
	const carrier = [...set].sort((a, b) => biggest(b) - biggest(a))[0] as number;
	const cap = (h: number) => (s0.load[h] as number) + (s0.free[h] as number);
	const orders = [[...byFree.filter((h) => h !== carrier), carrier], [...set].sort((a, b) => cap(b) - cap(a))];
	for (const order of orders) {
		const failed = replay(config, s0, order);
		if (failed.breaking) return failed.breaking;
	}
	return null;
}

/**
 * Replays failures in this order. `slack` is the least room left by any placement (the biggest
 * host's free memory minus the VM put there): the smaller, the closer the order came to
 * stranding a VM. `breaking` is the failing prefix when it stranded one.
 */
export function replay(config: PlanConfig, s0: FailureState, order: readonly number[]): { slack: number; breaking: Breaking | null } {
	const work = { free: Float64Array.from(s0.free), alive: Uint8Array.from(s0.alive), members: s0.members.slice(), copied: new Uint8Array(s0.alive.length) };
	let slack = Infinity;
	const noteRoom = (_item: number, bin: number) => (slack = Math.min(slack, work.free[bin] as number));
	for (let k = 0; k < order.length; k++) {
		const missed = applyFailure(config, work, order[k] as number, undefined, noteRoom);
		if (missed.length > 0) return { slack: -Infinity, breaking: { hosts: order.slice(0, k + 1), vms: missed } };
	}
	return { slack, breaking: null };
}

/**
 * Local search over sequences of exactly r failures: start from the hosts with most capacity
 * (and random picks among the next ones), then swap, move or replace hosts, keeping any change
 * that does not leave more room (`replay`'s slack). Failing orders are rare among the
 * r!·C(m, r) sequences, but they sit where the slack is small, and this walk finds them where a
 * depth-first search of orders would take hundreds of thousands of steps.
 */
export function localSearchWitness(config: PlanConfig, s0: FailureState, r: number, evaluations: number): Breaking | null {
	const hosts: number[] = [];
	for (let h = 0; h < s0.alive.length; h++) if (s0.alive[h]) hosts.push(h);
	const m = hosts.length;
	if (r < 1 || r >= m) return null;
	// Seeded from the pool's shape: the same pool always gets the same search (and answer).
	const random = seededRandom(m * 7919 + r * 104729 + config.vmRefs.length);
	const pick = (n: number) => Math.floor(random() * n);
	const cap = (h: number) => (s0.free[h] as number) + (s0.load[h] as number);
	const byCap = [...hosts].sort((a, b) => cap(b) - cap(a) || a - b);
	const pool = byCap.slice(0, Math.min(m, r + 6));
	const wide = byCap.slice(0, Math.min(m, r + 12));
	const perRestart = Math.min(evaluations, 1_000);
	let used = 0;
	for (let restart = 0; used < evaluations; restart++) {
		let current: number[];
		if (restart === 0) current = byCap.slice(0, r);
		else {
			const shuffled = [...pool];
			for (let i = shuffled.length - 1; i > 0; i--) {
				const j = pick(i + 1);
				[shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
			}
			current = shuffled.slice(0, r);
		}
		let score = replay(config, s0, current);
		used++;
		if (score.breaking) return score.breaking;
		for (let step = 0; step < perRestart && used < evaluations; step++) {
			const next = current.slice();
			const move = random();
			if (move < 0.4 && r > 1) {
				const i = pick(r);
				const j = pick(r);
				[next[i], next[j]] = [next[j] as number, next[i] as number];
			} else if (move < 0.7 && r > 1) {
				const [h] = next.splice(pick(r), 1);
				next.splice(pick(r), 0, h as number);
			} else {
				// Mostly from the hosts with most capacity, where failing sequences live.
				const from = random() < 0.8 ? wide : hosts;
				let h = from[pick(from.length)] as number;
				while (next.includes(h)) h = from[pick(from.length)] as number;
				next[pick(r)] = h;
			}
			const tried = replay(config, s0, next);
			used++;
			if (tried.breaking) return tried.breaking;
			if (tried.slack <= score.slack) {
				current = next;
				score = tried;
			}
		}
	}
	return null;
}
