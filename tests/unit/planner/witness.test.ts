import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failHost, initialState, type PlanConfig } from '../../../src/lib/planner/config';
import { exactNtol } from '../../../src/lib/planner/exact';
import { referenceNtol } from '../../../src/lib/planner/reference';
import { localSearchWitness, replay } from '../../../src/lib/planner/witness';
import { expectBreakingSequence, rawConfig } from './helpers';

const config = fc
	.record({
		free: fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 3, maxLength: 7 }),
		vms: fc.array(fc.record({ host: fc.nat(), need: fc.integer({ min: 1, max: 24 }) }), { minLength: 1, maxLength: 20 })
	})
	.map(({ free, vms }) => rawConfig(free, vms.map((vm) => ({ host: vm.host % free.length, need: vm.need }))));

/** The same order replayed with failHost, one host at a time. */
function strandsAt(c: PlanConfig, order: number[]): number {
	let s = initialState(c);
	for (let k = 0; k < order.length; k++) {
		const next = failHost(c, s, order[k] as number);
		if (!next.ok) return k;
		s = next.state;
	}
	return -1;
}

describe('adversaries', () => {
	it('replay strands exactly where failing the hosts one by one does', () => {
		fc.assert(
			fc.property(config, fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), (c, picks) => {
				const order = [...new Set(picks.map((p) => p % c.hostRefs.length))];
				const replayed = replay(c, initialState(c), order);
				const at = strandsAt(c, order);
				if (at < 0) {
					expect(replayed.breaking).toBeNull();
					expect(replayed.slack).toBeGreaterThanOrEqual(0);
				} else {
					expect(replayed.breaking?.hosts).toEqual(order.slice(0, at + 1));
					expect(replayed.breaking?.vms.length).toBeGreaterThan(0);
				}
			}),
			{ numRuns: 300 }
		);
	});

	it('the local search only ever reports real failures, never shorter than the truth allows', () => {
		fc.assert(
			fc.property(config, fc.integer({ min: 1, max: 6 }), (c, r) => {
				const found = localSearchWitness(c, initialState(c), r, 200);
				if (!found) return;
				expect(found.hosts.length).toBeLessThanOrEqual(r);
				expectBreakingSequence(c, found.hosts);
				expect(found.hosts.length).toBeGreaterThan(referenceNtol(c));
			}),
			{ numRuns: 200 }
		);
	});

	it('the exact search gives the same answer every time (the local search is seeded from the pool)', () => {
		const c = rawConfig(
			Array.from({ length: 12 }, (_, i) => 40 + ((i * 7) % 13)),
			Array.from({ length: 60 }, (_, i) => ({ host: i % 12, need: 1 + ((i * 5) % 11) }))
		);
		const first = exactNtol(c, { nodeLimit: 50, localEvaluations: 300 });
		const second = exactNtol(c, { nodeLimit: 50, localEvaluations: 300 });
		expect(second).toEqual(first);
	});
});
