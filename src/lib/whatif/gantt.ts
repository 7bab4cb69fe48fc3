import { scaleLinear } from 'd3';
import type { Timeline } from '$lib/planner/timeline';

export interface GanttOptions {
	/** Total width in px, labels included. */
	width?: number;
	labelWidth?: number;
	rowHeight?: number;
	/** Height of a group's header row. */
	groupHeight?: number;
	/** Room for the time axis at the top. */
	axisHeight?: number;
	ticks?: number;
}

export interface GanttBar {
	vm: string;
	name: string;
	host: string;
	x: number;
	y: number;
	width: number;
	height: number;
	start: number;
	end: number;
}

export interface GanttGroupBand {
	label: string;
	order: number | 'best-effort';
	y: number;
	/** The group's span (start to end) and the start_delay wait after it. */
	x: number;
	width: number;
	delayX: number;
	delayWidth: number;
	delay: number;
}

export interface GanttFailedRow {
	vm: string;
	name: string;
	reason: string;
	y: number;
	attempts: { x: number; t: number }[];
}

export interface GanttLayout {
	width: number;
	height: number;
	labelWidth: number;
	/** Plot area, px. */
	plot: { x: number; y: number; width: number; height: number };
	ticks: { x: number; t: number }[];
	detection: { x: number; t: number };
	groups: GanttGroupBand[];
	bars: GanttBar[];
	failed: GanttFailedRow[];
}

export function groupLabel(order: number | 'best-effort'): string {
	if (order === 'best-effort') return 'Best effort';
	if (order === Number.MAX_SAFE_INTEGER) return 'Order < 0 (last)';
	return `Order ${order}`;
}

/**
 * The restart timeline as a Gantt chart: time (seconds after the failure) to x with a d3
 * linear scale, one header row per order group followed by a row per VM (a group's VMs start
 * together), then a row per VM that cannot restart with a mark per attempt. A pure factory in
 * the d3 way: options in the closure, `(timeline) => layout`, same input same output.
 */
export function ganttLayout(options: GanttOptions = {}) {
	const width = options.width ?? 900;
	const labelWidth = options.labelWidth ?? 200;
	const rowHeight = options.rowHeight ?? 22;
	const groupHeight = options.groupHeight ?? 24;
	const axisHeight = options.axisHeight ?? 26;
	const tickCount = options.ticks ?? 8;
	if (width <= labelWidth + 20) throw new Error(`gantt width ${width} leaves no room beside labels of ${labelWidth}`);

	return (timeline: Timeline): GanttLayout => {
		const plotX = labelWidth;
		const plotWidth = width - labelWidth - 12;
		const lastDelay = timeline.groups.reduce((m, g) => Math.max(m, g.end + g.delayAfter), 0);
		const domainEnd = Math.max(timeline.finishedAt, lastDelay, timeline.detectedAt + 1);
		const x = scaleLinear().domain([0, domainEnd]).range([plotX, plotX + plotWidth]).nice(tickCount);

		let y = axisHeight;
		const groups: GanttGroupBand[] = [];
		const bars: GanttBar[] = [];
		for (const g of timeline.groups) {
			groups.push({
				label: groupLabel(g.order),
				order: g.order,
				y,
				x: x(g.start),
				width: Math.max(1, x(g.end) - x(g.start)),
				delayX: x(g.end),
				delayWidth: x(g.end + g.delayAfter) - x(g.end),
				delay: g.delayAfter
			});
			y += groupHeight;
			for (const v of [...g.vms].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))) {
				bars.push({ vm: v.vm, name: v.name, host: v.host, x: x(v.start), y: y + 3, width: Math.max(2, x(v.end) - x(v.start)), height: rowHeight - 6, start: v.start, end: v.end });
				y += rowHeight;
			}
		}
		const failed: GanttFailedRow[] = [];
		if (timeline.failed.length > 0) y += 6;
		for (const f of timeline.failed) {
			failed.push({ vm: f.vm, name: f.name, reason: f.reason, y, attempts: f.attempts.map((t) => ({ x: x(t), t })) });
			y += rowHeight;
		}
		const height = y + 8;
		return {
			width,
			height,
			labelWidth,
			plot: { x: plotX, y: axisHeight, width: plotWidth, height: height - axisHeight },
			ticks: x.ticks(tickCount).map((t) => ({ x: x(t), t })),
			detection: { x: x(timeline.detectedAt), t: timeline.detectedAt },
			groups,
			bars,
			failed
		};
	};
}

/** Seconds as the axis shows them: 90 → "1:30", 3600 → "60:00". */
export function formatSeconds(s: number): string {
	const m = Math.floor(s / 60);
	const sec = Math.round(s - m * 60);
	return `${m}:${String(sec).padStart(2, '0')}`;
}
