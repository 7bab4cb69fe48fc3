import { describe, expect, it } from 'vitest';
import type { Timeline } from '../../../src/lib/planner/timeline';
import { formatSeconds, ganttLayout, groupLabel } from '../../../src/lib/whatif/gantt';

const timeline: Timeline = {
	detectedAt: 60,
	groups: [
		{ order: 0, start: 60, end: 90, delayAfter: 30, vms: [{ vm: 'b', name: 'b', host: 'h2', start: 60, end: 90 }, { vm: 'a', name: 'a', host: 'h3', start: 60, end: 90 }] },
		{ order: 1, start: 120, end: 150, delayAfter: 0, vms: [{ vm: 'c', name: 'c', host: 'h2', start: 120, end: 150 }] },
		{ order: 'best-effort', start: 150, end: 180, delayAfter: 0, vms: [{ vm: 'd', name: 'd', host: 'h3', start: 150, end: 180 }] }
	],
	failed: [{ vm: 'z', name: 'z', reason: 'HOST_NOT_ENOUGH_FREE_MEMORY', attempts: [120, 240, 360] }],
	finishedAt: 360
};
const round = (n: number) => Math.round(n * 100) / 100;

describe('ganttLayout', () => {
	const layout = ganttLayout({ width: 600, labelWidth: 100, rowHeight: 20, groupHeight: 24, axisHeight: 20 })(timeline);

	it('puts a group header then its VMs, sorted by name, in order of groups', () => {
		expect(layout.groups.map((g) => [g.label, g.y])).toEqual([
			['Order 0', 20],
			['Order 1', 84],
			['Best effort', 128]
		]);
		expect(layout.bars.map((b) => [b.name, b.y])).toEqual([
			['a', 47],
			['b', 67],
			['c', 111],
			['d', 155]
		]);
	});

	it('starts the VMs of a group together and the next group after the start_delay', () => {
		const [a, b, c] = layout.bars;
		expect(a?.x).toBe(b?.x);
		const g0 = layout.groups[0];
		expect(round((g0?.delayX ?? 0) + (g0?.delayWidth ?? 0))).toBe(round(c?.x ?? -1));
		expect(g0?.delay).toBe(30);
	});

	it('maps seconds linearly from 0 to a nice end covering the last retry', () => {
		const px = (t: number) => layout.ticks.find((k) => k.t === t)?.x;
		expect(px(0)).toBe(100);
		const last = layout.ticks[layout.ticks.length - 1];
		expect(last?.t).toBeGreaterThanOrEqual(360);
		expect(round(layout.detection.x - 100)).toBe(round(((px(100) ?? 0) - 100) * 0.6));
	});

	it('gives each VM that cannot restart a row with a mark per attempt', () => {
		expect(layout.failed).toHaveLength(1);
		expect(layout.failed[0]?.attempts.map((a) => a.t)).toEqual([120, 240, 360]);
		expect(layout.failed[0]?.y).toBeGreaterThan(layout.bars[3]?.y ?? Infinity);
		expect(layout.height).toBeGreaterThan(layout.failed[0]?.y ?? Infinity);
	});

	it('is deterministic', () => {
		const make = ganttLayout({ width: 600, labelWidth: 100 });
		const first = JSON.stringify(make(timeline));
		for (let i = 0; i < 20; i++) expect(JSON.stringify(make(timeline))).toBe(first);
	});

	it('refuses a width with no room for the plot', () => {
		expect(() => ganttLayout({ width: 100, labelWidth: 100 })).toThrow(/no room/);
	});
});

describe('labels', () => {
	it('names groups and seconds', () => {
		expect(groupLabel(2)).toBe('Order 2');
		expect(groupLabel('best-effort')).toBe('Best effort');
		expect(formatSeconds(90)).toBe('1:30');
		expect(formatSeconds(5)).toBe('0:05');
	});
});
