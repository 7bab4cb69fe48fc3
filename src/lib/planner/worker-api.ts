import type { Ref, Snapshot } from '../xapi/records';
import { analyseModel, type Analysis } from './analyse';
import { failoverPlan, type FailoverPlan } from './failover';
import { suggestFixes, exactPlacementAfterFailure, type FixSuggestions } from './fixes';
import { buildModel } from './model';
import { parseSnapshot, type SnapshotIssue } from './parse';
import * as v from 'valibot';
import { restartTimeline, TimelineOptionsSchema, type Timeline, type TimelineOptions } from './timeline';
import { toolstackFailoverPlan } from './toolstack';
import type { WhatIf } from './types';

/**
 * The planner as the worker serves it. Plain module (no Comlink here) so tests can call it
 * directly; `worker.ts` only exposes it.
 *
 * Every answer echoes the caller's requestId and the snapshot generation it was computed on,
 * so the page can discard anything but the latest. A request of one kind that has been
 * superseded by a newer one of the same kind before it started computing is answered
 * `{ stale: true }` without computing: each call yields once to the event loop first, which
 * lets queued newer requests register (the worker handles messages one at a time).
 */

export type Answer<T> =
	| { requestId: number; generation: number; stale: false; result: T }
	| { requestId: number; generation: number; stale: true }
	| { requestId: number; generation: number; stale: false; error: { code: 'NO_SNAPSHOT' | 'INVALID_INPUT'; message: string } };

export type LoadAnswer = { ok: true; generation: number; hosts: number; vms: number } | { ok: false; generation: number; issues: SnapshotIssue[] };

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export function createPlannerApi() {
	let snapshot: Snapshot | null = null;
	let generation = 0;
	const latest = new Map<string, number>();
	// Small memo per generation: the same what-if asked again (undo, toggling) is instant.
	let memo = new Map<string, unknown>();

	async function run<T>(kind: string, requestId: number, key: string, compute: (s: Snapshot) => T): Promise<Answer<T>> {
		latest.set(kind, Math.max(latest.get(kind) ?? -Infinity, requestId));
		const gen = generation;
		await yieldToEventLoop();
		if ((latest.get(kind) ?? requestId) > requestId || gen !== generation) return { requestId, generation: gen, stale: true };
		if (!snapshot) return { requestId, generation: gen, stale: false, error: { code: 'NO_SNAPSHOT', message: 'load a snapshot first' } };
		const memoKey = `${kind}:${key}`;
		if (memo.has(memoKey)) return { requestId, generation: gen, stale: false, result: memo.get(memoKey) as T };
		const result = compute(snapshot);
		if (memo.size > 64) memo = new Map();
		memo.set(memoKey, result);
		return { requestId, generation: gen, stale: false, result };
	}

	return {
		/** Validates and keeps the snapshot; everything after answers against it. */
		load(raw: unknown): LoadAnswer {
			const parsed = parseSnapshot(raw);
			generation += 1;
			memo = new Map();
			if (!parsed.ok) {
				snapshot = null;
				return { ok: false, generation, issues: parsed.issues };
			}
			snapshot = parsed.snapshot;
			buildModel(snapshot); // warm the per-snapshot cache (agility, accounting)
			return { ok: true, generation, hosts: Object.keys(snapshot.host).length, vms: Object.keys(snapshot.VM).length };
		},
		analyse(whatIf: WhatIf, requestId: number): Promise<Answer<Analysis>> {
			return run('analyse', requestId, JSON.stringify(whatIf), (s) => analyseModel(s, buildModel(s, whatIf)));
		},
		failoverPlan(failedHosts: Ref[], whatIf: WhatIf, requestId: number): Promise<Answer<FailoverPlan>> {
			return run('failoverPlan', requestId, JSON.stringify([failedHosts, whatIf]), (s) => failoverPlan(s, failedHosts, whatIf));
		},
		async restartTimeline(failedHosts: Ref[], whatIf: WhatIf, opts: TimelineOptions, requestId: number): Promise<Answer<Timeline>> {
			const checked = v.safeParse(TimelineOptionsSchema, opts);
			if (!checked.success) {
				const issue = checked.issues[0];
				const field = issue ? v.getDotPath(issue) : null;
				return { requestId, generation, stale: false, error: { code: 'INVALID_INPUT', message: `timeline options${field ? `.${field}` : ''}: ${issue?.message ?? 'invalid'}` } };
			}
			return run('restartTimeline', requestId, JSON.stringify([failedHosts, whatIf, checked.output]), (s) => restartTimeline(s, failedHosts, whatIf, checked.output));
		},
		suggestFixes(target: number, whatIf: WhatIf, requestId: number): Promise<Answer<FixSuggestions>> {
			return run('suggestFixes', requestId, JSON.stringify([target, whatIf]), (s) => suggestFixes(s, target, whatIf));
		},
		exactPlacementAfterFailure(failedHosts: Ref[], whatIf: WhatIf, requestId: number) {
			return run('exactPlacement', requestId, JSON.stringify([failedHosts, whatIf]), (s) => exactPlacementAfterFailure(s, failedHosts, whatIf));
		},
		toolstackFailoverPlan(failedHosts: Ref[], failedVms: Ref[], requestId: number) {
			return run('toolstackFailoverPlan', requestId, JSON.stringify([failedHosts, failedVms]), (s) => toolstackFailoverPlan(s, failedHosts, failedVms));
		}
	};
}

export type PlannerApi = ReturnType<typeof createPlannerApi>;

/** The instance the worker exposes. */
export const plannerApi: PlannerApi = createPlannerApi();

export { RequestGate } from './request-gate';
