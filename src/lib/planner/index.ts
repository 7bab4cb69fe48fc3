/**
 * Haven's failover-capacity planner: pure functions from a snapshot (and a what-if) to tagged
 * results. No DOM, no I/O; `worker.ts` only exposes `worker-api.ts` through Comlink.
 */
export type { WhatIf, PrioritySetting, Agility, Priority, PoolModel, HostModel, VmModel } from './types';
export { parseSnapshot, formatIssues, type ParseResult, type SnapshotIssue } from './parse';
export { buildModel, normalisePriority, isValidPriority, VALID_PRIORITIES } from './model';
export { vmAgility, allVmAgility, AgilityChecker } from './agility';
export {
	toolstackMaxFailuresToTolerate,
	toolstackFailoverPlan,
	planExistsFor,
	planStatus,
	chooseStrategy,
	bisect,
	type PlanStatus,
	type Strategy
} from './toolstack';
export { analyse, analyseModel, exactMaxFailuresToTolerate, type Analysis, type HostAccounting, type ToleranceStatus } from './analyse';
export { failoverPlan, type FailoverPlan } from './failover';
export { restartTimeline, MIN_RETRY_INTERVAL_SECONDS, type Timeline, type TimelineGroup, type TimelineOptions, type TimelineVm } from './timeline';
export { suggestFixes, exactPlacementAfterFailure, type Fix, type FixSuggestions } from './fixes';
export { exactPackingExists, type PackingResult } from './packing';
export { computeRestartPlan, type PlanConfig, type RestartOutcome } from './config';
export { exactNtol, type ExactResult } from './exact';
export { referenceNtol } from './reference';
