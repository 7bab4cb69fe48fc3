import fc from 'fast-check';
import highsLoader from 'highs';
import { beforeAll, describe, expect, it } from 'vitest';
import { exactPlacementAfterFailure } from '../../../src/lib/planner/fixes';
import { exactPackingExists } from '../../../src/lib/planner/packing';
import { analyse } from '../../../src/lib/planner/analyse';
import { tinyPool } from './helpers';

type Highs = Awaited<ReturnType<typeof highsLoader>>;
let highs: Highs;
beforeAll(async () => {
	highs = await highsLoader();
});

/** Feasibility of the assignment MILP: x[i][b] binary, each item once, each bin within capacity. */
function milpFeasible(items: number[], bins: number[]): boolean {
	const x = (i: number, b: number) => `x_${i}_${b}`;
	const rows: string[] = [];
	items.forEach((_, i) => rows.push(` once_${i}: ${bins.map((_, b) => x(i, b)).join(' + ')} = 1`));
	bins.forEach((cap, b) => rows.push(` cap_${b}: ${items.map((size, i) => `${size} ${x(i, b)}`).join(' + ')} <= ${cap}`));
	const vars = items.flatMap((_, i) => bins.map((_, b) => x(i, b)));
	const lp = ['Minimize', ' obj: 0 ' + vars[0], 'Subject To', ...rows, 'Binary', ...vars.map((v) => ' ' + v), 'End'].join('\n');
	const solution = highs.solve(lp);
	if (solution.Status !== 'Optimal' && solution.Status !== 'Infeasible') throw new Error(`HiGHS: ${solution.Status}`);
	return solution.Status === 'Optimal';
}

function checkAssignment(items: number[], bins: number[], assignment: number[]) {
	const used = bins.map(() => 0);
	assignment.forEach((b, i) => (used[b] = (used[b] ?? 0) + (items[i] as number)));
	used.forEach((u, b) => expect(u).toBeLessThanOrEqual(bins[b] as number));
}

describe('exactPackingExists', () => {
	it('finds the placement greedy misses: bins 10 and 8, items 8, 5, 5', () => {
		const result = exactPackingExists([8, 5, 5], [10, 8]);
		expect(result.exists).toBe(true);
		expect(result.assignment).toEqual([1, 0, 0]);
	});

	it('says no when the total does not fit, and when one item is bigger than every bin', () => {
		expect(exactPackingExists([6, 6, 6], [10, 8]).exists).toBe(false);
		expect(exactPackingExists([11], [10, 10]).exists).toBe(false);
		expect(exactPackingExists([], []).exists).toBe(true);
	});

	it('agrees with the HiGHS MILP solver on random instances', () => {
		fc.assert(
			fc.property(
				fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 9 }),
				fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 4 }),
				(items, bins) => {
					const ours = exactPackingExists(items, bins);
					expect(ours.exists).toBe(milpFeasible(items, bins));
					if (ours.exists) checkAssignment(items, bins, ours.assignment ?? []);
				}
			),
			{ numRuns: 100 }
		);
	});

	it('agrees with HiGHS on tight instances (items summing to about the capacity)', () => {
		fc.assert(
			fc.property(fc.array(fc.integer({ min: 3, max: 20 }), { minLength: 4, maxLength: 10 }), fc.integer({ min: 2, max: 4 }), fc.integer({ min: -3, max: 3 }), (items, nBins, slack) => {
				const total = items.reduce((a, b) => a + b, 0);
				const bins = Array.from({ length: nBins }, (_, b) => Math.floor(total / nBins) + (b === 0 ? (total % nBins) + slack : 0));
				expect(exactPackingExists(items, bins).exists).toBe(milpFeasible(items, bins));
			}),
			{ numRuns: 100 }
		);
	});
});

describe('exactPlacementAfterFailure', () => {
	it('when greedy strands a VM, says whether some placement would fit them all', () => {
		// A: 16 GiB host with an unprotected 1.5 GiB VM → 10.3 free; B: 14 GiB likewise → 8.3 free.
		// C (32 GiB) runs protected 8, 5 and 5 GiB VMs. Losing C, greedy puts 8 on A (2.2 left),
		// 5 on B (3.3 left) and strands the second 5; yet 5 + 5 on A and 8 on B fit.
		const pool = tinyPool(
			[{ memGiB: 16 }, { memGiB: 14 }, { memGiB: 32 }],
			[
				{ host: 0, memGiB: 1.5, priority: '' },
				{ host: 1, memGiB: 1.5, priority: '' },
				{ host: 2, memGiB: 8 },
				{ host: 2, memGiB: 5 },
				{ host: 2, memGiB: 5 }
			]
		);
		const a = analyse(pool.snapshot);
		expect(a.ntol).toBe(0);
		expect(a.toolstackNtol).toBe(0);
		expect(a.breakingSet?.hosts).toEqual([pool.hosts[2]]);
		expect(a.breakingSet?.vms).toHaveLength(1);
		expect([pool.vms[3], pool.vms[4]]).toContain(a.breakingSet?.vms[0]);
		const exact = exactPlacementAfterFailure(pool.snapshot, [pool.hosts[2] as string]);
		expect(exact.exists).toBe(true);
	});
});
