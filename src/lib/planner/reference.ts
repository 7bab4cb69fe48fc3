import { failHost, initialState, type FailureState, type PlanConfig } from './config';

/**
 * The plain exhaustive reference: for r = 1, 2, ... try every sequence of r distinct live
 * hosts failing one after another, with no pruning, until one fails. Slow on purpose; the
 * property tests and the benchmark measure the planner against it.
 */
export class ReferenceTimeout extends Error {}

export function referenceNtol(config: PlanConfig, opts: { deadline?: number } = {}): number {
	const deadline = opts.deadline ?? Infinity;
	let steps = 0;
	const s0 = initialState(config);
	const m = s0.aliveCount;
	if (config.vmRefs.length === 0) return m;
	const allSucceed = (s: FailureState, depth: number): boolean => {
		if (depth === 0) return true;
		for (let h = 0; h < s.alive.length; h++) {
			if (!s.alive[h]) continue;
			if ((++steps & 1023) === 0 && performance.now() > deadline) throw new ReferenceTimeout('reference ran out of time');
			const next = failHost(config, s, h);
			if (!next.ok || !allSucceed(next.state, depth - 1)) return false;
		}
		return true;
	};
	let r = 0;
	while (r + 1 < m && allSucceed(s0, r + 1)) r++;
	return r;
}
