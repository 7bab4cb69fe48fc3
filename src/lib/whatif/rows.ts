import { PRIORITY_LABELS, type PriorityLevel } from '$lib/ha/priority';
import type { FailoverPlan } from '$lib/planner/failover';
import type { Timeline } from '$lib/planner/timeline';
import type { PoolOverview, VmOverview } from '$lib/pool/overview';

/** What happens to one VM in a what-if failure. */
export type VmFate = 'restarted' | 'best-effort' | 'unplaced' | 'best-effort-unplaced' | 'not-protected';

export interface WhatIfRow {
	vmRef: string;
	vm: string;
	fromHost: string;
	/** The host it restarts on, or null when it does not. */
	toHost: string | null;
	fate: VmFate;
	/** XAPI code of why it does not restart (unplaced), or a short reason. */
	reason: string | null;
	priority: string;
	/** The restart order group, 'best-effort', or null when not restarted. */
	group: number | 'best-effort' | null;
	/** Seconds after the failure; for an unplaced VM, its first attempt. */
	start: number | null;
	end: number | null;
}

const FATE_RANK: Record<VmFate, number> = { restarted: 0, unplaced: 1, 'best-effort': 2, 'best-effort-unplaced': 3, 'not-protected': 4 };

/**
 * One row per VM the failure touches: every VM the plan restarts or cannot restart, and every
 * running VM on a failed host (those without protection are lost). Sorted by fate, then by
 * start time and name, so the export reads like the restart sequence.
 */
export function whatIfRows(pool: PoolOverview, plan: FailoverPlan, timeline: Timeline | null): WhatIfRow[] {
	const vms = new Map<string, VmOverview>();
	for (const host of pool.hosts) for (const vm of host.vms) vms.set(vm.ref, vm);
	for (const vm of pool.offlineVms) vms.set(vm.ref, vm);
	const hostName = new Map(pool.hosts.map((h) => [h.ref, h.name]));
	const nameOfHost = (ref: string | null | undefined) => (ref ? (hostName.get(ref) ?? ref) : '');

	const slot = new Map<string, { group: number | 'best-effort'; start: number; end: number }>();
	for (const g of timeline?.groups ?? []) for (const v of g.vms) slot.set(v.vm, { group: g.order, start: v.start, end: v.end });
	const attempts = new Map((timeline?.failed ?? []).map((f) => [f.vm, f.attempts]));

	const rows = new Map<string, WhatIfRow>();
	const base = (ref: string): Omit<WhatIfRow, 'fate' | 'toHost' | 'reason' | 'group' | 'start' | 'end'> => {
		const vm = vms.get(ref);
		const level: PriorityLevel = vm?.priority ?? 'none';
		return { vmRef: ref, vm: vm?.name ?? ref, fromHost: nameOfHost(vm?.residentOn), priority: PRIORITY_LABELS[level] };
	};
	for (const [ref, host] of Object.entries(plan.placements)) {
		const s = slot.get(ref);
		rows.set(ref, { ...base(ref), fate: 'restarted', toHost: nameOfHost(host), reason: null, group: s?.group ?? null, start: s?.start ?? null, end: s?.end ?? null });
	}
	for (const { vm: ref, reason } of plan.unplaced) {
		const first = attempts.get(ref)?.[0] ?? null;
		rows.set(ref, { ...base(ref), fate: 'unplaced', toHost: null, reason, group: vms.get(ref)?.order ?? null, start: first, end: null });
	}
	for (const [ref, host] of Object.entries(plan.bestEffort)) {
		const s = slot.get(ref);
		rows.set(ref, { ...base(ref), fate: 'best-effort', toHost: nameOfHost(host), reason: null, group: 'best-effort', start: s?.start ?? null, end: s?.end ?? null });
	}
	for (const { vm: ref, reason } of plan.bestEffortUnplaced) {
		rows.set(ref, { ...base(ref), fate: 'best-effort-unplaced', toHost: null, reason, group: null, start: null, end: null });
	}
	const failed = new Set(plan.failed);
	for (const host of pool.hosts) {
		if (!failed.has(host.ref)) continue;
		for (const vm of host.vms) {
			if (rows.has(vm.ref)) continue;
			rows.set(vm.ref, { ...base(vm.ref), fate: 'not-protected', toHost: null, reason: 'not protected', group: null, start: null, end: null });
		}
	}
	return [...rows.values()].sort(
		(a, b) => FATE_RANK[a.fate] - FATE_RANK[b.fate] || (a.start ?? Infinity) - (b.start ?? Infinity) || a.vm.localeCompare(b.vm, 'en', { numeric: true })
	);
}
