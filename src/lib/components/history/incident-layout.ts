import { scaleTime } from 'd3';
import type { IncidentDetail, TimelineVm } from '$lib/server/history';

/** The parts of an incident record the timeline draws (types only: nothing server-side runs here). */
export type IncidentVm = Pick<TimelineVm, 'ref' | 'name' | 'priority' | 'order' | 'haltedAt' | 'startedAt' | 'startedOn' | 'downtimeMs'>;

export type IncidentForLayout = Pick<IncidentDetail, 'startedAt' | 'hostLostAt' | 'declaredDeadAt' | 'closedAt'> & {
	entries: Pick<IncidentDetail['entries'][number], 'kind' | 'at' | 'title' | 'estimated'>[];
	groups: { priority: string; order: number; vms: IncidentVm[]; durationMs: number | null }[];
	notRestarted: (IncidentVm & { reason: string })[];
};

export interface TimelineOptions {
	width?: number;
	labelWidth?: number;
	rowHeight?: number;
	markerBand?: number;
}

export interface VmRow {
	ref: string;
	label: string;
	y: number;
	x0: number;
	x1: number;
	restarted: boolean;
	target: string | null;
	downtimeMs: number | null;
}

export interface GroupBand {
	label: string;
	y0: number;
	y1: number;
	durationMs: number | null;
}

export interface IncidentTimelineLayout {
	width: number;
	height: number;
	labelWidth: number;
	markers: { x: number; label: string; kind: string; estimated: boolean; anchor: 'start' | 'end' }[];
	ticks: { x: number; label: string }[];
	rows: VmRow[];
	groups: GroupBand[];
}

function groupLabel(priority: string, order: number): string {
	if (priority === 'best-effort') return 'Best effort';
	return `Restart group, order ${order}`;
}

/**
 * Lays an incident out on one time axis: markers for what happened to the host (lost, declared
 * dead, fenced...), then a row per VM from when it halted to when it ran again, grouped by
 * restart group in the order the pool restarts them; VMs that never came back run to the end
 * in their own band. Pure and deterministic: same incident, same picture.
 */
export function incidentTimelineLayout(options: TimelineOptions = {}) {
	const width = options.width ?? 900;
	const labelWidth = options.labelWidth ?? 170;
	const rowHeight = options.rowHeight ?? 20;
	const markerBand = options.markerBand ?? 70;
	/** Room above each group's rows for its label. */
	const groupHeader = 18;

	return (incident: IncidentForLayout, now: Date = new Date()): IncidentTimelineLayout => {
		const vmTimes = [...incident.groups.flatMap((g) => g.vms), ...incident.notRestarted].flatMap((vm) => [vm.haltedAt, vm.startedAt]);
		const times = [incident.startedAt, incident.hostLostAt, incident.declaredDeadAt, incident.closedAt, ...incident.entries.map((e) => e.at), ...vmTimes]
			.filter((t): t is Date => t instanceof Date)
			.map((t) => t.getTime());
		const start = Math.min(...times);
		let end = Math.max(...times);
		if (incident.notRestarted.length > 0 && !incident.closedAt) end = Math.max(end, now.getTime());
		if (end - start < 1000) end = start + 1000;
		const x = scaleTime()
			.domain([new Date(start), new Date(end)])
			// Room on the right for the "→ host (downtime)" label of the last restarts.
			.range([labelWidth, width - 150]);

		const markers = incident.entries
			.filter((e) => e.kind !== 'restart_group' && e.kind !== 'vms_halted')
			.map((e) => {
				const at = x(e.at);
				// Labels near the right edge read leftwards, so they stay inside the picture.
				return { x: at, label: e.title, kind: e.kind, estimated: e.estimated ?? false, anchor: at > labelWidth + (width - labelWidth) * 0.6 ? ('end' as const) : ('start' as const) };
			});

		const rows: VmRow[] = [];
		const groups: GroupBand[] = [];
		let y = markerBand;
		const addVm = (vm: IncidentVm, restarted: boolean) => {
			const from = vm.haltedAt ?? incident.declaredDeadAt ?? incident.startedAt;
			const to = restarted && vm.startedAt ? vm.startedAt : new Date(end);
			rows.push({
				ref: vm.ref,
				label: vm.name ?? vm.ref,
				y,
				x0: x(from),
				x1: Math.max(x(from) + 2, x(to)),
				restarted,
				target: vm.startedOn?.name ?? vm.startedOn?.ref ?? null,
				downtimeMs: vm.downtimeMs
			});
			y += rowHeight;
		};
		for (const group of incident.groups) {
			const y0 = y;
			y += groupHeader;
			for (const vm of group.vms) addVm(vm, vm.startedAt !== null);
			groups.push({ label: groupLabel(group.priority, group.order), y0, y1: y, durationMs: group.durationMs });
			y += 8;
		}
		const stillDown = incident.notRestarted.filter((vm) => !rows.some((r) => r.ref === vm.ref));
		if (stillDown.length > 0) {
			const y0 = y;
			y += groupHeader;
			for (const vm of stillDown) addVm(vm, false);
			groups.push({ label: 'Did not come back', y0, y1: y, durationMs: null });
		}

		const ticks = x.ticks(6).map((t) => ({ x: x(t), label: x.tickFormat(6)(t) }));
		return { width, height: y + 30, labelWidth, markers, ticks, rows, groups };
	};
}
