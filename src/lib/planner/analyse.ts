import type { Ref, Snapshot } from '../xapi/records';
import { computeRestartPlan, type PlanConfig, type RestartOutcome } from './config';
import { exactNtol, type ExactOptions, type ExactResult } from './exact';
import { buildModel } from './model';
import { toolstackNtolDetailed, type Strategy } from './toolstack';
import type { PoolModel, WhatIf } from './types';

export interface HostAccounting {
	host: Ref;
	name: string;
	live: boolean;
	memoryTotal: number;
	memoryOverhead: number;
	controlDomain: number;
	protectedVms: number;
	otherVms: number;
	/** The toolstack's free memory (before any restart plan). */
	free: number;
	/** Free memory once protected VMs not on a live host are started (live hosts only). */
	freeAfterRestartPlan: number | null;
}

/** Why the tolerance is what it is, as data (the UI words it). */
export type ToleranceStatus =
	| { kind: 'no-protected-vms' }
	| { kind: 'non-agile-protected'; vms: { vm: Ref; code: string; params: string[] }[] }
	| { kind: 'cannot-start'; vms: Ref[] }
	| { kind: 'planned' };

export interface Analysis {
	/** Exact tolerance under the toolstack's placement rule. */
	ntol: number;
	/** False only if the search budget ran out: then ntol is a proved lower bound and ntolUpper an upper one. */
	exact: boolean;
	ntolUpper: number;
	/** What the pool itself reports (pool.ha_compute_max_host_failures_to_tolerate). */
	toolstackNtol: number;
	/** The strategy the toolstack uses to decide one more failure than it reports. */
	toolstackStrategy: Strategy;
	strategies: Record<number, Strategy>;
	/** How Haven found ntol. */
	strategy: 'trivial' | 'bound' | 'search';
	status: ToleranceStatus;
	/** Hosts (in failure order) whose failure first leaves protected VMs without room, and those VMs. */
	breakingSet: { hosts: Ref[]; vms: Ref[] } | null;
	nonAgile: { vm: Ref; code: string; params: string[] }[];
	liveHosts: number;
	protectedVms: number;
	hosts: HostAccounting[];
	searchNodes: number;
}

export function hostAccounting(model: PoolModel, outcome: RestartOutcome): HostAccounting[] {
	const after = new Map(outcome.config.hostRefs.map((h, i) => [h, outcome.config.free[i] as number]));
	return model.hosts.map((h) => ({
		host: h.ref,
		name: h.name,
		live: h.live,
		memoryTotal: h.memoryTotal,
		memoryOverhead: h.memoryOverhead,
		controlDomain: h.controlDomainFootprint,
		protectedVms: h.protectedFootprint,
		otherVms: h.residentFootprint - h.controlDomainFootprint - h.protectedFootprint,
		free: h.free,
		freeAfterRestartPlan: after.get(h.ref) ?? null
	}));
}

export function exactFromOutcome(outcome: RestartOutcome, options: ExactOptions = {}): { status: ToleranceStatus; result: ExactResult } {
	const m = outcome.config.hostRefs.length;
	if (outcome.nonAgileProtected.length > 0)
		return {
			status: { kind: 'non-agile-protected', vms: [...outcome.nonAgileProtected] },
			result: { ntol: 0, ntolUpper: 0, breaking: null, exact: true, nodes: 0, provedByBound: 0 }
		};
	if (outcome.notRestarted.length > 0)
		return { status: { kind: 'cannot-start', vms: [...outcome.notRestarted] }, result: { ntol: 0, ntolUpper: 0, breaking: null, exact: true, nodes: 0, provedByBound: 0 } };
	if (outcome.config.vmRefs.length === 0) return { status: { kind: 'no-protected-vms' }, result: { ntol: m, ntolUpper: m, breaking: null, exact: true, nodes: 0, provedByBound: m } };
	return { status: { kind: 'planned' }, result: exactNtol(outcome.config, options) };
}

function breakingRefs(config: PlanConfig, status: ToleranceStatus, result: ExactResult): Analysis['breakingSet'] {
	if (status.kind === 'non-agile-protected') return { hosts: [], vms: status.vms.map((v) => v.vm) };
	if (status.kind === 'cannot-start') return { hosts: [], vms: status.vms };
	if (!result.breaking) return null;
	return { hosts: result.breaking.hosts.map((h) => config.hostRefs[h] ?? ''), vms: result.breaking.vms.map((v) => config.vmRefs[v] ?? '') };
}

/** Everything about the pool's failover capacity under a what-if. */
export function analyseModel(snapshot: Snapshot, model: PoolModel, opts: { nodeLimit?: number } = {}): Analysis {
	const outcome = computeRestartPlan(snapshot, model);
	const { status, result } = exactFromOutcome(outcome, opts.nodeLimit === undefined ? {} : { nodeLimit: opts.nodeLimit });
	// The exact search's proof also answers the toolstack's exhaustive checks (same question).
	const toolstack = toolstackNtolDetailed(outcome, status.kind === 'planned' ? result : undefined);
	const nonAgile = model.vms
		.filter((vm) => !vm.agility.agile && !vm.isControlDomain)
		.map((vm) => (vm.agility.agile ? { vm: vm.ref, code: '', params: [] } : { vm: vm.ref, code: vm.agility.code, params: vm.agility.params }));
	return {
		ntol: result.ntol,
		exact: result.exact,
		ntolUpper: result.ntolUpper,
		toolstackNtol: toolstack.ntol,
		toolstackStrategy: toolstack.strategies[toolstack.ntol + 1] ?? (outcome.config.totalHosts > 32 ? 'approximation' : 'exhaustive'),
		strategies: toolstack.strategies,
		strategy: status.kind !== 'planned' ? 'trivial' : result.nodes === 0 && result.provedByBound >= result.ntol ? 'bound' : 'search',
		status,
		breakingSet: breakingRefs(outcome.config, status, result),
		nonAgile,
		liveHosts: outcome.config.hostRefs.length,
		protectedVms: model.vms.filter((vm) => vm.protected).length,
		hosts: hostAccounting(model, outcome),
		searchNodes: result.nodes
	};
}

export function analyse(snapshot: Snapshot, whatIf: WhatIf = {}, opts: { nodeLimit?: number } = {}): Analysis {
	return analyseModel(snapshot, buildModel(snapshot, whatIf), opts);
}

/** Exact tolerance only (cheaper than analyse: no toolstack comparison). */
export function exactMaxFailuresToTolerate(snapshot: Snapshot, whatIf: WhatIf = {}): number {
	return exactFromOutcome(computeRestartPlan(snapshot, buildModel(snapshot, whatIf))).result.ntol;
}
