import { describe, expect, it } from 'vitest';
import { diffViews, parseXapiTime, type View, type VmView } from '../../../src/lib/server/history/observe';

const host = (name: string, live = true) => ({ uuid: `uuid-${name}`, name, live, liveChangedAt: null, memoryFree: 1, memoryTotal: 2 });
const vm = (over: Partial<VmView>): VmView => ({ uuid: 'uuid-vm', name: 'web', power: 'Running', residentOn: 'h1', priority: 'restart', order: 0, startedAt: 1000, ...over });
const view = (vms: Record<string, VmView>, hosts = { h1: host('h1'), h2: host('h2') }): View => ({
	pool: { master: 'h1', haEnabled: true, hostFailuresToTolerate: 1, planExistsFor: 1, overcommitted: false, haTimeoutS: 60 },
	hosts,
	vms
});

describe('parseXapiTime', () => {
	it('reads XAPI compact datetimes, ISO strings, and treats the epoch as unset', () => {
		expect(parseXapiTime('20261125T16:05:00Z')).toBe(Date.UTC(2026, 10, 25, 16, 5, 0));
		expect(parseXapiTime('20261125T16:05:00.250Z')).toBe(Date.UTC(2026, 10, 25, 16, 5, 0, 250));
		expect(parseXapiTime('2026-11-25T16:05:00Z')).toBe(Date.UTC(2026, 10, 25, 16, 5, 0));
		expect(parseXapiTime('19700101T00:00:00Z')).toBeNull();
		expect(parseXapiTime('')).toBeNull();
		expect(parseXapiTime('soon')).toBeNull();
	});
});

describe('diffViews', () => {
	it('sees a halt and a start as such, with where and when', () => {
		const halted = diffViews(view({ v: vm({}) }), view({ v: vm({ power: 'Halted', residentOn: 'OpaqueRef:NULL' }) }), 5000);
		expect(halted).toEqual([expect.objectContaining({ kind: 'vm_halted', at: 5000, ref: 'v', detail: expect.objectContaining({ from: 'h1', fromName: 'h1', inferred: false }) })]);
		const started = diffViews(view({ v: vm({ power: 'Halted', residentOn: 'OpaqueRef:NULL' }) }), view({ v: vm({ residentOn: 'h2', startedAt: 7000 }) }), 9000);
		expect(started).toEqual([expect.objectContaining({ kind: 'vm_started', at: 7000, detail: expect.objectContaining({ on: 'h2', onName: 'h2' }) })]);
	});

	it('infers a halt when a VM reappears on another host with a new start time (event.from coalesced both)', () => {
		const facts = diffViews(view({ v: vm({}) }), view({ v: vm({ residentOn: 'h2', startedAt: 4000 }) }), 6000);
		expect(facts.map((f) => [f.kind, f.at, f.detail['inferred'] ?? f.detail['afterInferredHalt']])).toEqual([
			['vm_halted', 4000, true],
			['vm_started', 4000, true]
		]);
	});

	it('tells a live migration (same start time) from a restart', () => {
		const facts = diffViews(view({ v: vm({}) }), view({ v: vm({ residentOn: 'h2' }) }), 6000);
		expect(facts).toEqual([expect.objectContaining({ kind: 'vm_migrated', detail: { from: 'h1', fromName: 'h1', to: 'h2', toName: 'h2' } })]);
	});

	it('reports hosts dying and coming back, master changes and HA setting changes', () => {
		const before = view({});
		const after = view({}, { h1: host('h1', false), h2: host('h2') });
		after.pool = { ...after.pool!, master: 'h2', planExistsFor: 0, overcommitted: true };
		const kinds = diffViews(before, after, 1).map((f) => f.kind);
		expect(kinds).toEqual(['host_dead', 'master_changed', 'ha_config']);
		expect(diffViews(after, before, 2).map((f) => f.kind)).toEqual(['host_back', 'master_changed', 'ha_config']);
	});

	it('says nothing when nothing that matters changed', () => {
		const a = view({ v: vm({}) });
		const b = view({ v: vm({ name: 'renamed' }) });
		b.hosts['h1'] = { ...host('h1'), memoryFree: 12345 };
		expect(diffViews(a, b, 1)).toEqual([]);
	});
});
