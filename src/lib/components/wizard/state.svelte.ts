/**
 * The Configure HA wizard's state in the browser: the snapshot it started from (the baseline
 * sent back to the server), the user's choices, and the planner's answer for them. Every edit
 * asks the planner worker again; until the newest answer arrives the old maximum is stale and
 * Next waits.
 */
import { configurableVms, currentConfiguration, poolOf, prerequisites, type CurrentConfiguration, type VmRow, type VmSetting } from '$lib/ha/configuration';
import { heartbeatSrOptions, type HeartbeatSrOption } from '$lib/ha/heartbeat-sr';
import { LEVEL_ORDER, levelToXapi, priorityLevel, type PriorityLevel } from '$lib/ha/priority';
import type { Analysis } from '$lib/planner/analyse';
import type { FixSuggestions } from '$lib/planner/fixes';
import type { PlannerConnection } from '$lib/planner-client';
import type { Ref, Snapshot } from '$lib/xapi/records';
import { describeXapiError } from '$lib/xapi/describe';

export type Mode = 'enable' | 'reconfigure';

export interface PlannerView {
	/** What the pool will accept (its own computation). */
	max: number;
	/** Haven's exact search (can be higher on big pools, where the pool approximates). */
	exact: number;
	protectedVms: number;
	liveHosts: number;
	status: Analysis['status'];
	breakingHosts: Ref[];
}

export class WizardState {
	readonly snapshot: Snapshot;
	readonly current: CurrentConfiguration;
	readonly rows: VmRow[];
	readonly srOptions: HeartbeatSrOption[];
	readonly hostNames: Record<Ref, string>;
	readonly vmNames: Record<Ref, string>;
	readonly prerequisites;

	mode = $state<Mode>('enable');
	settings = $state<Record<Ref, VmSetting>>({});
	sr = $state<Ref | null>(null);
	ntol = $state(0);
	/** HA timeout in seconds (pool.enable_ha's `timeout`); the pool's default of 60 s when null. */
	timeout = $state<number | null>(null);
	/** Until the user picks a tolerance, it follows the maximum. */
	ntolTouched = $state(false);
	selected = $state<Ref[]>([]);

	/** Non-agile VMs with the pool's code (agility does not depend on priorities). */
	nonAgile = $state.raw<Record<Ref, { code: string; params: string[] }>>({});
	analysis = $state.raw<PlannerView | null>(null);
	computing = $state(false);
	plannerError = $state<string | null>(null);
	fixes = $state.raw<FixSuggestions | null>(null);
	fixesComputing = $state(false);
	/** VMs protected on the pool that cannot be, proposed as best effort. */
	demoted = $state.raw<string[]>([]);

	#planner: PlannerConnection;
	/** Fixes can take seconds on big pools: a worker of their own keeps the maximum live meanwhile. */
	#fixesPlanner: PlannerConnection;

	constructor(snapshot: Snapshot, planner: PlannerConnection, fixesPlanner: PlannerConnection = planner) {
		this.snapshot = snapshot;
		this.#planner = planner;
		this.#fixesPlanner = fixesPlanner;
		this.current = currentConfiguration(snapshot);
		this.rows = configurableVms(snapshot);
		this.srOptions = heartbeatSrOptions(snapshot);
		this.prerequisites = prerequisites(snapshot);
		this.hostNames = Object.fromEntries(Object.entries(snapshot.host).map(([ref, h]) => [ref, h.name_label]));
		this.vmNames = Object.fromEntries(this.rows.map((r) => [r.vm, r.name]));
		this.mode = this.current.haEnabled ? 'reconfigure' : 'enable';
		this.settings = structuredClone(this.current.vms);
		this.ntol = this.current.ntol;
		this.ntolTouched = this.current.haEnabled;
		const usable = this.srOptions.filter((o) => o.qualifies);
		// The SR used before (its volumes are kept), else the only usable one.
		this.sr = this.current.heartbeatSr && usable.some((o) => o.ref === this.current.heartbeatSr) ? this.current.heartbeatSr : usable.length === 1 ? (usable[0]?.ref ?? null) : null;
	}

	get poolName(): string {
		return poolOf(this.snapshot)?.[1].name_label ?? 'pool';
	}

	get hostCount(): number {
		return Object.keys(this.snapshot.host).length;
	}

	level(vm: Ref): PriorityLevel {
		const s = this.settings[vm];
		return s ? priorityLevel(s.priority, s.order) : 'none';
	}

	/** Why a VM cannot be protected, in words, objects named rather than referenced. */
	whyNotAgile(vm: Ref): string | null {
		const a = this.nonAgile[vm];
		if (!a) return null;
		const snap = this.snapshot;
		const name = (p: string) => snap.network[p]?.name_label ?? snap.SR[p]?.name_label ?? snap.VDI[p]?.name_label ?? snap.host[p]?.name_label ?? p;
		return describeXapiError(a.code, a.params.map(name));
	}

	canProtect(vm: Ref): boolean {
		return !(vm in this.nonAgile);
	}

	setLevel(vm: Ref, level: PriorityLevel): void {
		const s = this.settings[vm];
		if (!s) return;
		if ((level === 'high' || level === 'medium' || level === 'low') && !this.canProtect(vm)) return;
		const x = levelToXapi(level);
		this.settings[vm] = { priority: x.priority as VmSetting['priority'], order: x.order ?? s.order, startDelay: s.startDelay };
		this.replan();
	}

	setOrder(vm: Ref, order: number): void {
		const s = this.settings[vm];
		if (!s || s.priority !== 'restart' || !Number.isInteger(order) || order < 0) return;
		this.settings[vm] = { ...s, order };
		this.replan();
	}

	setDelay(vm: Ref, seconds: number): void {
		const s = this.settings[vm];
		if (!s || !Number.isInteger(seconds) || seconds < 0) return;
		this.settings[vm] = { ...s, startDelay: seconds };
	}

	/** Bulk edit; returns the names of VMs left alone because they cannot be protected. */
	setLevelForSelected(level: PriorityLevel): string[] {
		const skipped: string[] = [];
		const protecting = level === 'high' || level === 'medium' || level === 'low';
		for (const vm of this.selected) {
			if (protecting && !this.canProtect(vm)) {
				skipped.push(this.vmNames[vm] ?? vm);
				continue;
			}
			const s = this.settings[vm];
			if (!s) continue;
			const x = levelToXapi(level);
			this.settings[vm] = { priority: x.priority as VmSetting['priority'], order: protecting ? LEVEL_ORDER[level] : s.order, startDelay: s.startDelay };
		}
		this.replan();
		return skipped;
	}

	setDelayForSelected(seconds: number): void {
		for (const vm of this.selected) this.setDelay(vm, seconds);
	}

	setNtol(n: number): void {
		if (!Number.isInteger(n) || n < 0) return;
		this.ntol = n;
		this.ntolTouched = true;
		this.#askFixes();
	}

	/** The priorities as the planner's what-if: the whole configuration. */
	#whatIf() {
		const priorities = Object.fromEntries(Object.entries($state.snapshot(this.settings)).map(([vm, s]) => [vm, { priority: s.priority, order: s.order }]));
		return { priorities, prioritiesReplaceAll: true };
	}

	/** Asks the worker for the maximum under the current choices; only the newest answer counts. */
	replan(): void {
		const id = this.#planner.issue('analyse');
		this.computing = true;
		this.#planner.api.analyse(this.#whatIf(), id).then(
			(answer) => {
				if (!this.#planner.isCurrent('analyse', answer)) return;
				this.computing = false;
				if ('error' in answer) {
					this.plannerError = answer.error.message;
					return;
				}
				if (answer.stale) return;
				const a = answer.result;
				const first = this.analysis === null;
				this.plannerError = null;
				this.nonAgile = Object.fromEntries(a.nonAgile.map((n) => [n.vm, { code: n.code, params: n.params }]));
				// A VM that is protected but cannot be would make the tolerance 0 and is refused while
				// HA is on: the wizard proposes best effort for it, and says so.
				const demote = first ? this.rows.filter((r) => this.settings[r.vm]?.priority === 'restart' && r.vm in this.nonAgile) : [];
				if (demote.length > 0) {
					for (const r of demote) this.settings[r.vm] = { ...(this.settings[r.vm] as VmSetting), priority: 'best-effort' };
					this.demoted = demote.map((r) => r.name);
				}
				this.analysis = {
					max: a.toolstackNtol,
					exact: a.ntol,
					protectedVms: a.protectedVms,
					liveHosts: a.liveHosts,
					status: a.status,
					breakingHosts: a.breakingSet?.hosts ?? []
				};
				// Untouched, the tolerance follows the maximum (but tolerating every host is meaningless).
				if (!this.ntolTouched) this.ntol = Math.min(a.toolstackNtol, Math.max(0, this.hostCount - 1));
				if (demote.length > 0) return this.replan();
				this.#askFixes();
			},
			(e: unknown) => {
				this.computing = false;
				this.plannerError = e instanceof Error ? e.message : String(e);
			}
		);
	}

	/** When the wanted tolerance is above the maximum, asks the planner how to get there. */
	#askFixes(): void {
		const a = this.analysis;
		if (!a || this.ntol <= a.max) {
			this.fixes = null;
			this.fixesComputing = false;
			return;
		}
		const id = this.#fixesPlanner.issue('fixes');
		this.fixesComputing = true;
		this.#fixesPlanner.api.suggestFixes(this.ntol, this.#whatIf(), id).then(
			(answer) => {
				if (!this.#fixesPlanner.isCurrent('fixes', answer)) return;
				this.fixesComputing = false;
				this.fixes = 'result' in answer ? answer.result : null;
			},
			() => (this.fixesComputing = false)
		);
	}

	/** Applies a planner fix that changes priorities. */
	applyPriorityFix(changes: { vm: Ref; to: string }[]): void {
		for (const c of changes) {
			const s = this.settings[c.vm];
			if (s) this.settings[c.vm] = { ...s, priority: c.to === 'restart' ? 'restart' : c.to === 'best-effort' ? 'best-effort' : '' };
		}
		this.replan();
	}

	get overcommitted(): boolean {
		return this.analysis !== null && this.ntol > this.analysis.max;
	}

	get canLeavePriorities(): boolean {
		return !this.computing && this.analysis !== null && !this.overcommitted && this.plannerError === null && this.ntol <= this.hostCount;
	}

	vmList(settings: Record<Ref, VmSetting> = $state.snapshot(this.settings)) {
		return this.rows.map((r) => ({ vm: r.vm, ...(settings[r.vm] ?? { priority: r.priority, order: r.order, startDelay: r.startDelay }) }));
	}

	/**
	 * Only the VMs the user changed: the server keeps every other VM as the pool has it, so a
	 * confirmed "apply anyway" never undoes someone else's change, and a big pool's request
	 * stays small.
	 */
	changes() {
		const now = this.current.vms;
		return this.vmList().filter((v) => {
			const c = now[v.vm];
			return !c || c.priority !== v.priority || (v.priority === 'restart' && (c.order !== v.order || c.startDelay !== v.startDelay));
		});
	}

	/** What the wizard read from the pool: the server refuses (409) if the pool moved since. */
	baseline() {
		return { haEnabled: this.current.haEnabled, ntol: this.current.ntol, vms: this.vmList(this.current.vms) };
	}
}
