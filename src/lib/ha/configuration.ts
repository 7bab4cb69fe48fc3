/**
 * An HA configuration as the wizard edits it (heartbeat SR, host failures to tolerate, each
 * VM's restart priority, start order and delay), the seed's prerequisites, and the change
 * plan that turns the pool's current configuration into a wanted one in the safe order.
 * Pure: the page uses it for the summary, the server for the calls it makes.
 */
import { normalisePriority } from '../planner/model';
import type { PoolRecord, Ref, Snapshot } from '../xapi/records';
import { heartbeatSrOptions } from './heartbeat-sr';
import { PRIORITY_LABELS, priorityLevel } from './priority';

export type RestartPriority = 'restart' | 'best-effort' | '';

export interface VmSetting {
	priority: RestartPriority;
	order: number;
	startDelay: number;
}

export interface VmRow extends VmSetting {
	vm: Ref;
	name: string;
	powerState: string;
}

type PlanningPart = Pick<Snapshot, 'pool' | 'host' | 'host_metrics' | 'VM' | 'SR' | 'PBD' | 'VDI'>;

/** The one pool record of a snapshot. */
export function poolOf(snapshot: Pick<Snapshot, 'pool'>): [Ref, PoolRecord] | undefined {
	return Object.entries(snapshot.pool)[0];
}

/** VMs a user can give a restart priority: not templates, snapshots or control domains; by name. */
export function configurableVms(snapshot: Pick<Snapshot, 'VM'>): VmRow[] {
	return Object.entries(snapshot.VM)
		.filter(([, vm]) => !vm.is_a_template && !vm.is_control_domain && !vm.is_a_snapshot)
		.map(([vm, r]) => {
			const { priority, order } = normalisePriority(String(r.ha_restart_priority ?? ''), Number(r.order) || 0);
			return { vm, name: r.name_label, powerState: r.power_state, priority, order, startDelay: Number(r.start_delay) || 0 };
		})
		.sort((a, b) => a.name.localeCompare(b.name) || a.vm.localeCompare(b.vm));
}

/** The configuration the pool has now. */
export interface CurrentConfiguration {
	haEnabled: boolean;
	ntol: number;
	/** The statefile's SR when HA was enabled before (VDIs are kept after disable). */
	heartbeatSr: Ref | null;
	vms: Record<Ref, VmSetting>;
}

export function currentConfiguration(snapshot: Pick<Snapshot, 'pool' | 'VM' | 'VDI'>): CurrentConfiguration {
	const pool = poolOf(snapshot)?.[1];
	const statefile = pool?.ha_statefiles?.[0];
	const heartbeatSr = statefile ? (snapshot.VDI[statefile]?.SR ?? null) : null;
	return {
		haEnabled: pool?.ha_enabled === true,
		ntol: Number(pool?.ha_host_failures_to_tolerate) || 0,
		heartbeatSr,
		vms: Object.fromEntries(configurableVms(snapshot).map(({ vm, priority, order, startDelay }) => [vm, { priority, order, startDelay }]))
	};
}

export interface Prerequisite {
	id: 'licence' | 'heartbeat-sr' | 'hosts-live';
	ok: boolean;
	text: string;
}

/** The seed's checks before anything else: licence, a qualifying shared SR, every host live. */
export function prerequisites(snapshot: PlanningPart): Prerequisite[] {
	const pool = poolOf(snapshot)?.[1];
	const hosts = Object.values(snapshot.host);
	const unlicensed = hosts.filter((h) => h.license_params?.['enable_xha'] === 'false').map((h) => h.name_label);
	const licensed = pool?.restrictions?.['enable_xha'] === 'true' && unlicensed.length === 0;
	const usable = heartbeatSrOptions(snapshot).filter((o) => o.qualifies);
	const notLive = hosts.filter((h) => !h.enabled || snapshot.host_metrics[h.metrics]?.live !== true).map((h) => h.name_label);
	return [
		{
			id: 'licence',
			ok: licensed,
			text: licensed
				? 'Every host has a licence that allows HA.'
				: `The pool licence does not allow HA${unlicensed.length > 0 ? ` (no HA licence on ${unlicensed.join(', ')})` : ''}: the pool would refuse with LICENCE_RESTRICTION. Apply a licence with HA (Enterprise) to every host.`
		},
		{
			id: 'heartbeat-sr',
			ok: usable.length > 0,
			text:
				usable.length > 0
					? `${usable.length} shared SR${usable.length === 1 ? ' qualifies' : 's qualify'} for the heartbeat (${usable.map((o) => o.name).join(', ')}).`
					: 'No SR can hold the heartbeat: add a shared iSCSI, Fibre Channel or NFS SR with at least 356 MiB free, attached on every host.'
		},
		{
			id: 'hosts-live',
			ok: notLive.length === 0 && hosts.length > 0,
			text: notLive.length === 0 ? `All ${hosts.length} hosts are live.` : `Not live: ${notLive.join(', ')}. Every host must be up and enabled to turn HA on.`
		}
	];
}

/** "High", "Best effort"... for a setting, with its start order when protected. */
export function describeSetting(s: VmSetting): string {
	const label = PRIORITY_LABELS[priorityLevel(s.priority, s.order)];
	if (s.priority !== 'restart') return label;
	return `${label} (order ${s.order}${s.startDelay > 0 ? `, then wait ${s.startDelay} s` : ''})`;
}

export interface WantedConfiguration {
	ntol: number;
	vms: Record<Ref, VmSetting>;
}

export type ChangeStep =
	| { kind: 'priority'; phase: 'unprotect' | 'protect' | 'other'; vm: Ref; name: string; from: RestartPriority; to: RestartPriority }
	| { kind: 'order'; vm: Ref; name: string; from: number; to: number }
	| { kind: 'start-delay'; vm: Ref; name: string; from: number; to: number }
	| { kind: 'ntol'; from: number; to: number }
	| { kind: 'enable'; sr: Ref; srName: string; timeout: number | null }
	| { kind: 'disable' };

const PRIORITY_WORDS: Record<RestartPriority, string> = { restart: 'restart', 'best-effort': 'best effort', '': 'do not restart' };

export function describeStep(step: ChangeStep): string {
	switch (step.kind) {
		case 'priority':
			return `${step.name}: restart priority ${PRIORITY_WORDS[step.from]} → ${PRIORITY_WORDS[step.to]}`;
		case 'order':
			return `${step.name}: start order ${step.from} → ${step.to}`;
		case 'start-delay':
			return `${step.name}: start delay ${step.from} s → ${step.to} s`;
		case 'ntol':
			return `Host failures to tolerate ${step.from} → ${step.to}`;
		case 'enable':
			return `Enable HA with the heartbeat on ${step.srName}${step.timeout ? ` (timeout ${step.timeout} s)` : ''}`;
		case 'disable':
			return 'Turn off HA';
	}
}

/**
 * The calls that take the pool from `current` to `wanted`, in the safe order of the reference
 * ("first remove protection that is being removed, then set the new host-failures-to-tolerate,
 * then add protection"), the same for a first enable and a reconfiguration:
 *
 * 1. protection removed (restart → best effort / do not restart) and changes between best
 *    effort and do not restart: they only lower the demand on the plan;
 * 2. `pool.set_ha_host_failures_to_tolerate`: with HA on, a value above what the plan covers
 *    is refused, so it goes after the removals and before the additions;
 * 3. protection added, then start orders and delays (these never touch the plan);
 * 4. first enable only: `pool.enable_ha` last, so HA arms with the final configuration and the
 *    pool is never protecting a half-written set of VMs.
 *
 * Order and delay of VMs that will not be protected are left alone (they mean nothing there).
 */
export function changeSteps(
	current: CurrentConfiguration,
	wanted: WantedConfiguration,
	names: Record<Ref, string>,
	enable?: { sr: Ref; srName: string; timeout: number | null }
): ChangeStep[] {
	const first: ChangeStep[] = [];
	const protect: ChangeStep[] = [];
	const orderAndDelay: ChangeStep[] = [];
	for (const [vm, want] of Object.entries(wanted.vms)) {
		const now = current.vms[vm];
		if (!now) continue;
		const name = names[vm] ?? vm;
		if (now.priority !== want.priority) {
			if (want.priority === 'restart') protect.push({ kind: 'priority', phase: 'protect', vm, name, from: now.priority, to: want.priority });
			else first.push({ kind: 'priority', phase: now.priority === 'restart' ? 'unprotect' : 'other', vm, name, from: now.priority, to: want.priority });
		}
		if (want.priority !== 'restart') continue;
		if (now.order !== want.order) orderAndDelay.push({ kind: 'order', vm, name, from: now.order, to: want.order });
		if (now.startDelay !== want.startDelay) orderAndDelay.push({ kind: 'start-delay', vm, name, from: now.startDelay, to: want.startDelay });
	}
	// Protection removed before other priority changes: the plan's demand only shrinks.
	first.sort((a, b) => Number(a.kind === 'priority' && a.phase !== 'unprotect') - Number(b.kind === 'priority' && b.phase !== 'unprotect'));
	const steps: ChangeStep[] = [...first];
	if (current.ntol !== wanted.ntol) steps.push({ kind: 'ntol', from: current.ntol, to: wanted.ntol });
	steps.push(...protect, ...orderAndDelay);
	if (enable) steps.push({ kind: 'enable', ...enable });
	return steps;
}

/** VMs whose setting differs between two configurations (what the user changed, or the pool did). */
export function settingDifferences(a: Record<Ref, VmSetting>, b: Record<Ref, VmSetting>): Ref[] {
	const refs = new Set([...Object.keys(a), ...Object.keys(b)]);
	return [...refs].filter((vm) => {
		const x = a[vm];
		const y = b[vm];
		if (!x || !y) return true;
		if (x.priority !== y.priority) return true;
		return x.priority === 'restart' && (x.order !== y.order || x.startDelay !== y.startDelay);
	});
}
