import * as v from 'valibot';
import type { Ref, Snapshot } from '../xapi/records';
import { BOOT_SECONDS } from './timeline-limits';
import { failoverPlan } from './failover';
import { buildModel } from './model';
import type { WhatIf } from './types';

/** What a caller may ask of the timeline, checked where requests cross into the planner. */
export const TimelineOptionsSchema = v.strictObject({
	detectionSeconds: v.optional(v.pipe(v.number(), v.integer('must be a whole number of seconds'), v.minValue(0), v.maxValue(86_400))),
	bootSeconds: v.optional(v.pipe(v.number(), v.integer('must be a whole number of seconds'), v.minValue(BOOT_SECONDS.min), v.maxValue(BOOT_SECONDS.max))),
	retries: v.optional(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(0), v.maxValue(20))),
	retryIntervalSeconds: v.optional(v.pipe(v.number(), v.integer('must be a whole number of seconds'), v.minValue(0), v.maxValue(86_400)))
});

export interface TimelineOptions {
	/** Seconds before the failure is declared (default: the pool's HA timeout, 60). */
	detectionSeconds?: number;
	/** Assumed seconds for one VM start (default 30). */
	bootSeconds?: number;
	/** Retries for a VM that fails to start (default 3). */
	retries?: number;
	/** Seconds between retries; the toolstack never retries sooner than 120 s. */
	retryIntervalSeconds?: number;
}

export interface TimelineVm {
	vm: Ref;
	name: string;
	host: Ref;
	start: number;
	end: number;
}

export interface TimelineGroup {
	/** The restart `order` of this group ('best-effort' for the final group). */
	order: number | 'best-effort';
	start: number;
	end: number;
	/** Largest start_delay in the group: the wait before the next group. */
	delayAfter: number;
	vms: TimelineVm[];
}

export interface Timeline {
	detectedAt: number;
	groups: TimelineGroup[];
	/** Protected VMs that cannot restart: every attempt, ≥ retry interval apart. */
	failed: { vm: Ref; name: string; reason: string; attempts: number[] }[];
	finishedAt: number;
}

export const MIN_RETRY_INTERVAL_SECONDS = 120;

/**
 * The restart sequence after a failure, as the HA runtime runs it: protected VMs grouped by
 * ascending `order`, a group's VMs started in parallel, each group's `start_delay` (the largest
 * in the group) waited before the next; best-effort VMs afterwards; a VM that cannot start is
 * retried no sooner than 120 s later.
 */
export function restartTimeline(snapshot: Snapshot, failedHosts: Ref[], whatIf: WhatIf = {}, opts: TimelineOptions = {}): Timeline {
	const model = buildModel(snapshot, whatIf);
	const plan = failoverPlan(snapshot, failedHosts, whatIf);
	const boot = opts.bootSeconds ?? BOOT_SECONDS.assumed;
	const retries = opts.retries ?? 3;
	const interval = Math.max(MIN_RETRY_INTERVAL_SECONDS, opts.retryIntervalSeconds ?? MIN_RETRY_INTERVAL_SECONDS);
	const detectedAt = opts.detectionSeconds ?? model.haTimeout;
	const vm = (ref: Ref) => model.vmByRef.get(ref);

	const byOrder = new Map<number, Ref[]>();
	const orderOf = (ref: Ref) => {
		const o = vm(ref)?.order ?? 0;
		return o < 0 ? Number.MAX_SAFE_INTEGER : o; // xapi's order_f: negative orders go last
	};
	for (const ref of [...Object.keys(plan.placements), ...plan.unplaced.map((u) => u.vm)]) {
		const o = orderOf(ref);
		byOrder.set(o, [...(byOrder.get(o) ?? []), ref]);
	}
	const unplacedReason = new Map(plan.unplaced.map((u) => [u.vm, u.reason]));
	const groups: TimelineGroup[] = [];
	const failed: Timeline['failed'] = [];
	let t = detectedAt;
	for (const order of [...byOrder.keys()].sort((a, b) => a - b)) {
		const refs = byOrder.get(order) ?? [];
		const vms: TimelineVm[] = [];
		let delay = 0;
		for (const ref of refs) {
			const v = vm(ref);
			delay = Math.max(delay, v?.startDelay ?? 0);
			const host = plan.placements[ref];
			if (host) vms.push({ vm: ref, name: v?.name ?? ref, host, start: t, end: t + boot });
			else failed.push({ vm: ref, name: v?.name ?? ref, reason: unplacedReason.get(ref) ?? '', attempts: Array.from({ length: retries + 1 }, (_, k) => t + k * interval) });
		}
		const end = vms.length > 0 ? t + boot : t;
		groups.push({ order, start: t, end, delayAfter: delay, vms });
		t = end + delay;
	}
	const be = Object.entries(plan.bestEffort);
	if (be.length > 0) {
		groups.push({ order: 'best-effort', start: t, end: t + boot, delayAfter: 0, vms: be.map(([ref, host]) => ({ vm: ref, name: vm(ref)?.name ?? ref, host, start: t, end: t + boot })) });
		t += boot;
	}
	const lastAttempt = Math.max(0, ...failed.flatMap((f) => f.attempts));
	return { detectedAt, groups, failed, finishedAt: Math.max(t, lastAttempt) };
}
