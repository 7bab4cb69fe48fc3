import { describe, expect, it } from 'vitest';
import { incidentTimelineLayout, type IncidentForLayout } from '../../../src/lib/components/history/incident-layout';
import { trendLayout, type TrendPoint } from '../../../src/lib/components/history/trend-layout';

const t = (s: number) => new Date(Date.UTC(2026, 10, 25, 3, 0, s));
const vm = (ref: string, halted: number, started: number | null, order = 0) => ({
	ref,
	name: ref,
	priority: 'restart',
	order,
	haltedAt: t(halted),
	startedAt: started === null ? null : t(started),
	startedOn: started === null ? null : { ref: 'h2', name: 'xcp-host-2' },
	downtimeMs: started === null ? null : (started - halted) * 1000
});

const incident: IncidentForLayout = {
	startedAt: t(60),
	hostLostAt: t(0),
	declaredDeadAt: t(60),
	closedAt: t(200),
	entries: [
		{ kind: 'host_lost', at: t(0), title: 'xcp-host-3 lost', estimated: true },
		{ kind: 'host_declared_dead', at: t(60), title: 'xcp-host-3 declared dead' }
	],
	groups: [
		{ priority: 'restart', order: 0, vms: [vm('db', 60, 70), vm('web', 60, 72)], durationMs: 12_000 },
		{ priority: 'restart', order: 1, vms: [vm('app', 60, 130, 1)], durationMs: 70_000 }
	],
	notRestarted: [{ ...vm('big', 60, null), reason: 'no host has room' }]
};

describe('incidentTimelineLayout', () => {
	const layout = incidentTimelineLayout({ width: 1000, labelWidth: 100, rowHeight: 20, markerBand: 50 })(incident);

	it('puts time left to right across the plot, host markers first', () => {
		expect(layout.markers.map((m) => m.label)).toEqual(['xcp-host-3 lost', 'xcp-host-3 declared dead']);
		expect(layout.markers[0]?.x).toBeCloseTo(100);
		expect(layout.markers[0]?.estimated).toBe(true);
		expect(layout.markers[1]!.x).toBeGreaterThan(layout.markers[0]!.x);
	});

	it('draws each VM from its halt to its restart, groups in restart order, then the ones lost', () => {
		expect(layout.rows.map((r) => r.label)).toEqual(['db', 'web', 'app', 'big']);
		expect(layout.groups.map((g) => g.label)).toEqual(['Restart group, order 0', 'Restart group, order 1', 'Did not come back']);
		const [db, web, app, big] = layout.rows;
		expect(db!.x1).toBeLessThan(web!.x1);
		expect(app!.x1).toBeGreaterThan(web!.x1);
		expect(big!.restarted).toBe(false);
		expect(big!.x1).toBeCloseTo(850);
		expect(db!.target).toBe('xcp-host-2');
		expect(layout.rows.every((r, i, all) => i === 0 || r.y > all[i - 1]!.y)).toBe(true);
	});

	it('is deterministic', () => {
		expect(incidentTimelineLayout()(incident, t(300))).toEqual(incidentTimelineLayout()(incident, t(300)));
	});
});

describe('trendLayout', () => {
	const point = (s: number, plan: number, over = false): TrendPoint => ({
		at: t(s),
		haEnabled: true,
		hostFailuresToTolerate: 1,
		planExistsFor: plan,
		overcommitted: over,
		memoryFreeBytes: 50,
		memoryTotalBytes: 100,
		liveHosts: 3,
		hosts: 3
	});

	it('draws steps that hold until the next sample and shades overcommitted spans', () => {
		const layout = trendLayout({ width: 600, height: 200 })([point(0, 1), point(100, 0, true), point(200, 0, true), point(300, 1)], { from: t(0), to: t(400) });
		expect(layout.planPath.startsWith('M')).toBe(true);
		// A step: the same x twice in a row, the value changing at that instant.
		expect(layout.planPath).toMatch(/L([\d.]+),[\d.]+L\1,/);
		expect(layout.overcommitted).toHaveLength(1);
		const span = layout.overcommitted[0]!;
		expect(span.x1 - span.x0).toBeCloseTo((layout.plot.x1 - layout.plot.x0) / 2, 5);
		expect(layout.headroomTicks.map((x) => x.label)).toEqual(['0%', '50%', '100%']);
	});

	it('draws nothing for no samples', () => {
		const layout = trendLayout()([], { from: t(0), to: t(100) });
		expect(layout.planPath).toBe('');
		expect(layout.overcommitted).toEqual([]);
	});
});
