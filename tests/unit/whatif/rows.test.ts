import { describe, expect, it } from 'vitest';
import { failoverPlan } from '../../../src/lib/planner/failover';
import { restartTimeline } from '../../../src/lib/planner/timeline';
import { poolOverview } from '../../../src/lib/pool/overview';
import { ScenarioBuilder } from '../../../src/lib/xapi/sim/scenario-builder';
import { whatIfRows } from '../../../src/lib/whatif/rows';

/** Two hosts of 32 GiB; h1 holds a protected VM of each order, a best-effort one and an unprotected one. */
function pool(bigGiB = 4) {
	const b = new ScenarioBuilder(3);
	b.pool('p');
	const h1 = b.host({ name: 'h1', memoryGiB: 32 });
	const h2 = b.host({ name: 'h2', memoryGiB: 32 });
	const sr = b.sr({ name: 'iscsi', type: 'lvmoiscsi', shared: true, sizeGiB: 500, hosts: [{ host: h1 }, { host: h2 }] });
	const disks = [{ sr, sizeGiB: 10 }];
	b.vm({ name: 'first', memoryGiB: 2, host: h1, priority: 'restart', order: 0, startDelay: 20, disks });
	b.vm({ name: 'second', memoryGiB: bigGiB, host: h1, priority: 'restart', order: 1, disks });
	b.vm({ name: 'extra', memoryGiB: 1, host: h1, priority: 'best-effort', disks });
	b.vm({ name: 'scratch', memoryGiB: 1, host: h1, disks });
	b.vm({ name: 'stays', memoryGiB: 1, host: h2, priority: 'restart', disks });
	const s = b.finish();
	return { s, h1 };
}

describe('whatIfRows', () => {
	it('lists restarted VMs in restart order with their group and times, then best-effort, then the lost', () => {
		const { s, h1 } = pool();
		const plan = failoverPlan(s, [h1]);
		const timeline = restartTimeline(s, [h1], {}, { detectionSeconds: 60, bootSeconds: 30 });
		const rows = whatIfRows(poolOverview(s), plan, timeline);
		expect(rows.map((r) => [r.vm, r.fate, r.fromHost, r.toHost, r.group, r.start, r.end])).toEqual([
			['first', 'restarted', 'h1', 'h2', 0, 60, 90],
			// order 1 starts after group 0 ends (90) plus its start_delay (20)
			['second', 'restarted', 'h1', 'h2', 1, 110, 140],
			['extra', 'best-effort', 'h1', 'h2', 'best-effort', 140, 170],
			['scratch', 'not-protected', 'h1', null, null, null, null]
		]);
		expect(rows.find((r) => r.vm === 'scratch')?.reason).toBe('not protected');
		// A VM on a surviving host is untouched, so not listed.
		expect(rows.some((r) => r.vm === 'stays')).toBe(false);
	});

	it('gives an unplaced VM its reason and first attempt', () => {
		const { s, h1 } = pool(40);
		const plan = failoverPlan(s, [h1]);
		const rows = whatIfRows(poolOverview(s), plan, restartTimeline(s, [h1], {}, { detectionSeconds: 60 }));
		const second = rows.find((r) => r.vm === 'second');
		expect(second).toMatchObject({ fate: 'unplaced', toHost: null, reason: 'HOST_NOT_ENOUGH_FREE_MEMORY', group: 1 });
		expect(second?.start).toBeGreaterThanOrEqual(60);
	});
});
