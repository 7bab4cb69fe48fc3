import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/lib/planner/analyse';
import { failoverPlan } from '../../../src/lib/planner/failover';
import { buildModel } from '../../../src/lib/planner/model';
import { restartTimeline, MIN_RETRY_INTERVAL_SECONDS } from '../../../src/lib/planner/timeline';
import { XapiCode } from '../../../src/lib/xapi/codes';
import type { Ref, Snapshot } from '../../../src/lib/xapi/records';
import { tinyPool } from './helpers';

/** No placement on a failed or dead host, no host given more than it had free. */
function expectValidPlan(snapshot: Snapshot, failed: Ref[], placements: Record<Ref, Ref>) {
	const model = buildModel(snapshot, { failedHosts: failed });
	const used = new Map<Ref, number>();
	for (const [vm, host] of Object.entries(placements)) {
		expect(failed).not.toContain(host);
		expect(model.hostByRef.get(host)?.live).toBe(true);
		used.set(host, (used.get(host) ?? 0) + (model.vmByRef.get(vm)?.need ?? 0));
	}
	for (const [host, bytes] of used) expect(bytes).toBeLessThanOrEqual(model.hostByRef.get(host)?.free ?? 0);
}

// h0 runs: db (8 GiB, order 0, start_delay 20), app (4 GiB, order 1), big (30 GiB, order 1),
// a best-effort cache (2 GiB) and an unprotected scratch VM. h1 and h2 are 32 GiB (27.6 free).
const pool = tinyPool(
	[{ memGiB: 64 }, { memGiB: 32 }, { memGiB: 32 }],
	[
		{ name: 'db', host: 0, memGiB: 8, order: 0, startDelay: 20 },
		{ name: 'app', host: 0, memGiB: 4, order: 1 },
		{ name: 'big', host: 0, memGiB: 30, order: 1 },
		{ name: 'cache', host: 0, memGiB: 2, priority: 'best-effort' },
		{ name: 'scratch', host: 0, memGiB: 2, priority: '' },
		{ name: 'web', host: 1, memGiB: 4 }
	]
);
const [db, app, big, cache, scratch] = pool.vms as [Ref, Ref, Ref, Ref, Ref, Ref];
const [h0] = pool.hosts as [Ref, Ref, Ref];

describe('failoverPlan', () => {
	const plan = failoverPlan(pool.snapshot, [h0]);

	it('places the protected VMs that fit, and names the reason for the one that does not', () => {
		expect(Object.keys(plan.placements).sort()).toEqual([app, db].sort());
		expect(plan.unplaced).toEqual([{ vm: big, reason: XapiCode.HOST_NOT_ENOUGH_FREE_MEMORY }]);
		expectValidPlan(pool.snapshot, [h0], plan.placements);
	});

	it('places best-effort VMs after the protected ones, never unprotected ones', () => {
		expect(Object.keys(plan.bestEffort)).toEqual([cache]);
		expect(plan.placements[scratch]).toBeUndefined();
		expectValidPlan(pool.snapshot, [h0], { ...plan.placements, ...plan.bestEffort });
	});

	it('reports headroom per surviving host and the tolerance left', () => {
		expect(Object.keys(plan.headroom).sort()).toEqual([pool.hosts[1], pool.hosts[2]].sort());
		expect(Object.values(plan.headroom).every((b) => b >= 0)).toBe(true);
		// 'big' cannot be restarted anywhere: what remains is a pool that cannot start a protected VM.
		expect(plan.remainingNtol).toBe(0);
		expect(analyse(pool.snapshot, { failedHosts: [h0] }).status.kind).toBe('cannot-start');
	});

	it('with big unprotected, the remaining tolerance is the exact tolerance of the survivors', () => {
		const whatIf = { priorities: { [big]: '' } };
		const p = failoverPlan(pool.snapshot, [h0], whatIf);
		expect(p.unplaced).toEqual([]);
		expect(p.remainingNtol).toBe(analyse(pool.snapshot, { ...whatIf, failedHosts: [h0] }).ntol);
	});
});

describe('restartTimeline', () => {
	const timeline = restartTimeline(pool.snapshot, [h0], {}, { bootSeconds: 30 });

	it('starts after detection, groups by ascending order, waits the start_delay between groups', () => {
		expect(timeline.detectedAt).toBe(60);
		const [first, second, third] = timeline.groups;
		expect(first).toMatchObject({ order: 0, start: 60, end: 90, delayAfter: 20 });
		expect(first?.vms.map((v) => v.vm)).toEqual([db]);
		expect(second).toMatchObject({ order: 1, start: 110, end: 140 });
		expect(second?.vms.map((v) => v.vm)).toEqual([app]);
		expect(third).toMatchObject({ order: 'best-effort', start: 140 });
	});

	it('retries a VM that cannot start no sooner than every 120 s', () => {
		expect(timeline.failed.map((f) => f.vm)).toEqual([big]);
		const attempts = timeline.failed[0]?.attempts ?? [];
		expect(attempts[0]).toBe(110);
		for (let i = 1; i < attempts.length; i++) expect((attempts[i] as number) - (attempts[i - 1] as number)).toBeGreaterThanOrEqual(MIN_RETRY_INTERVAL_SECONDS);
		const faster = restartTimeline(pool.snapshot, [h0], {}, { retryIntervalSeconds: 10 });
		expect((faster.failed[0]?.attempts[1] ?? 0) - (faster.failed[0]?.attempts[0] ?? 0)).toBe(120);
	});
});
