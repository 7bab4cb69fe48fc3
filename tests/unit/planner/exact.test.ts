import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/lib/planner/analyse';
import { failHost, initialState, type FailureState, type PlanConfig } from '../../../src/lib/planner/config';
import { exactNtol, provedSafe } from '../../../src/lib/planner/exact';
import { referenceNtol } from '../../../src/lib/planner/reference';
import { toolstackMaxFailuresToTolerate, toolstackNtolDetailed } from '../../../src/lib/planner/toolstack';
import { expectBreakingSequence, rawConfig, tinyPool } from './helpers';

/** Small integer instances: ties in sizes and free memory are common, as they are in real pools. */
const smallConfig = fc
	.record({
		free: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 2, maxLength: 5 }),
		vms: fc.array(fc.record({ host: fc.nat(), need: fc.integer({ min: 1, max: 20 }) }), { maxLength: 10 })
	})
	.map(({ free, vms }) => rawConfig(free, vms.map((vm) => ({ host: vm.host % free.length, need: vm.need }))));

function allSequencesSucceed(config: PlanConfig, s: FailureState, d: number): boolean {
	if (d === 0) return true;
	for (let h = 0; h < s.alive.length; h++) {
		if (!s.alive[h]) continue;
		const next = failHost(config, s, h);
		if (!next.ok || !allSequencesSucceed(config, next.state, d - 1)) return false;
	}
	return true;
}

describe('exactNtol against the plain exhaustive reference', () => {
	it('agrees with the reference and with the toolstack (exhaustive on ≤ 5 hosts)', () => {
		fc.assert(
			fc.property(smallConfig, (config) => {
				const exact = exactNtol(config);
				expect(exact.exact).toBe(true);
				expect(exact.ntol).toBe(referenceNtol(config));
				const toolstack = toolstackNtolDetailed({ config, restartPlan: [], notRestarted: [], nonAgileProtected: [] }).ntol;
				expect(exact.ntol).toBe(toolstack);
			}),
			{ numRuns: 400 }
		);
	});

	it('its breaking set replays: every step but the last succeeds, and it is ntol + 1 long', () => {
		fc.assert(
			fc.property(smallConfig, (config) => {
				const exact = exactNtol(config);
				if (!exact.breaking) {
					expect(exact.ntol).toBe(config.vmRefs.length === 0 ? config.hostRefs.length : config.hostRefs.length - 1);
					return;
				}
				expect(exact.breaking.hosts).toHaveLength(exact.ntol + 1);
				expectBreakingSequence(config, exact.breaking.hosts);
				expect(exact.breaking.vms.length).toBeGreaterThan(0);
			}),
			{ numRuns: 300 }
		);
	});

	it('the capacity bound is sound: whatever it proves for d failures, the reference confirms', () => {
		fc.assert(
			fc.property(smallConfig, fc.integer({ min: 1, max: 4 }), (config, d) => {
				const s = initialState(config);
				if (provedSafe(config, s, d)) expect(allSequencesSucceed(config, s, d)).toBe(true);
			}),
			{ numRuns: 500 }
		);
	});

	it('the bound stays sound with many distinct sizes merged into intervals, and after failures', () => {
		const varied = fc
			.record({
				free: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 3, maxLength: 6 }),
				vms: fc.array(fc.record({ host: fc.nat(), need: fc.integer({ min: 1, max: 30 }) }), { maxLength: 14 }),
				prefail: fc.nat(),
				maxSizes: fc.constantFrom(2, 3, 5, 128)
			})
			.map(({ free, vms, prefail, maxSizes }) => ({ config: rawConfig(free, vms.map((vm) => ({ host: vm.host % free.length, need: vm.need }))), prefail: prefail % free.length, maxSizes }));
		fc.assert(
			fc.property(varied, fc.integer({ min: 1, max: 4 }), ({ config, prefail, maxSizes }, d) => {
				let s = initialState(config);
				// Also from a state where one host already failed and its VMs moved.
				const next = failHost(config, s, prefail);
				if (next.ok && prefail % 2 === 1) s = next.state;
				if (provedSafe(config, s, d, maxSizes)) expect(allSequencesSucceed(config, s, d)).toBe(true);
			}),
			{ numRuns: 1500 }
		);
	});

	it('asked only whether it reaches n failures, it answers that as the reference does', () => {
		fc.assert(
			fc.property(smallConfig, fc.integer({ min: 0, max: 5 }), (config, n) => {
				const truth = referenceNtol(config);
				const decided = exactNtol(config, { atLeast: n });
				expect(decided.ntol >= n).toBe(truth >= n);
				// Below the question the answer is the whole truth; at it, never more than the truth.
				if (truth < n) expect(decided.ntol).toBe(truth);
				else expect(decided.ntol).toBeLessThanOrEqual(truth);
			}),
			{ numRuns: 400 }
		);
	});

	it('on medium pools (6–9 hosts) where the search has to work, it still matches the reference', () => {
		const medium = fc
			.record({
				free: fc.array(fc.integer({ min: 5, max: 60 }), { minLength: 6, maxLength: 9 }),
				vms: fc.array(fc.record({ host: fc.nat(), need: fc.integer({ min: 1, max: 24 }) }), { minLength: 6, maxLength: 24 })
			})
			.map(({ free, vms }) => rawConfig(free, vms.map((vm) => ({ host: vm.host % free.length, need: vm.need }))));
		fc.assert(
			fc.property(medium, (config) => {
				expect(exactNtol(config).ntol).toBe(referenceNtol(config));
			}),
			{ numRuns: 60 }
		);
	});
});

describe('analyse on simulated pools', () => {
	it('matches the toolstack on random small pools built by the simulator', () => {
		fc.assert(
			fc.property(
				fc.array(fc.integer({ min: 16, max: 48 }), { minLength: 2, maxLength: 4 }),
				fc.array(fc.record({ host: fc.nat(), mem: fc.integer({ min: 1, max: 16 }), priority: fc.constantFrom('restart', '1', 'best-effort', '') }), { maxLength: 8 }),
				fc.integer({ min: 1, max: 1000 }),
				(hostMem, vms, seed) => {
					const pool = tinyPool(
						hostMem.map((memGiB) => ({ memGiB })),
						vms.map((vm) => ({ host: vm.host % hostMem.length, memGiB: vm.mem, priority: vm.priority })),
						seed
					);
					const a = analyse(pool.snapshot);
					expect(a.ntol).toBe(toolstackMaxFailuresToTolerate(pool.snapshot));
					expect(a.toolstackNtol).toBe(a.ntol);
				}
			),
			{ numRuns: 40 }
		);
	});
});
