import { area, curveStepAfter, line, scaleLinear, scaleTime } from 'd3';
import type { TolerancePoint } from '$lib/server/history';

/** One tolerance sample, as the history queries return it (a type only: nothing server-side runs here). */
export type TrendPoint = TolerancePoint;

export interface TrendLayout {
	width: number;
	height: number;
	plot: { x0: number; x1: number; y0: number; y1: number };
	/** Step lines: failures the plan covers, and failures configured. */
	planPath: string;
	configuredPath: string;
	/** Memory headroom (free / total) as an area on the right-hand axis. */
	headroomPath: string;
	overcommitted: { x0: number; x1: number }[];
	xTicks: { x: number; label: string }[];
	yTicks: { y: number; label: string }[];
	headroomTicks: { y: number; label: string }[];
}

/**
 * Tolerance over time: the failures the pool's plan covers against the failures configured
 * (steps, since both change at an instant), memory headroom behind them, overcommitted spans
 * shaded. Values hold until the next sample, so the last one runs to `to`.
 */
export function trendLayout(options: { width?: number; height?: number } = {}) {
	const width = options.width ?? 900;
	const height = options.height ?? 260;
	const margin = { left: 44, right: 50, top: 12, bottom: 28 };

	return (points: TrendPoint[], range: { from: Date; to: Date }): TrendLayout => {
		const plot = { x0: margin.left, x1: width - margin.right, y0: height - margin.bottom, y1: margin.top };
		const x = scaleTime().domain([range.from, range.to]).range([plot.x0, plot.x1]).clamp(true);
		const maxCount = Math.max(1, ...points.map((p) => Math.max(p.hosts, p.hostFailuresToTolerate, p.planExistsFor)));
		const y = scaleLinear().domain([0, maxCount]).range([plot.y0, plot.y1]).nice();
		const pct = scaleLinear().domain([0, 1]).range([plot.y0, plot.y1]);
		const extended = points.length > 0 ? [...points, { ...points[points.length - 1]!, at: range.to }] : [];
		const step = (value: (p: TrendPoint) => number) =>
			line<TrendPoint>()
				.x((p) => x(p.at))
				.y((p) => y(value(p)))
				.curve(curveStepAfter);
		const headroom = area<TrendPoint>()
			.x((p) => x(p.at))
			.y0(plot.y0)
			.y1((p) => pct(p.memoryTotalBytes > 0 ? p.memoryFreeBytes / p.memoryTotalBytes : 0))
			.curve(curveStepAfter);

		const overcommitted: { x0: number; x1: number }[] = [];
		points.forEach((p, i) => {
			if (!p.overcommitted) return;
			const next = points[i + 1]?.at ?? range.to;
			const span = { x0: x(p.at), x1: x(next) };
			const last = overcommitted[overcommitted.length - 1];
			if (last && Math.abs(last.x1 - span.x0) < 0.5) last.x1 = span.x1;
			else overcommitted.push(span);
		});

		return {
			width,
			height,
			plot,
			planPath: step((p) => (p.haEnabled ? p.planExistsFor : 0))(extended) ?? '',
			configuredPath: step((p) => (p.haEnabled ? p.hostFailuresToTolerate : 0))(extended) ?? '',
			headroomPath: headroom(extended) ?? '',
			overcommitted,
			xTicks: x.ticks(6).map((t) => ({ x: x(t), label: x.tickFormat(6)(t) })),
			yTicks: y.ticks(Math.min(maxCount, 6)).filter(Number.isInteger).map((t) => ({ y: y(t), label: String(t) })),
			headroomTicks: [0, 0.5, 1].map((t) => ({ y: pct(t), label: `${t * 100}%` }))
		};
	};
}
