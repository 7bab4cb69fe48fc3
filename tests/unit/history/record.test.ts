import { expect, it } from 'vitest';
import type { Fact, View } from '../../../src/lib/server/history/observe';
import { recordFacts } from '../../../src/lib/server/history/record';
import { getIncident, listIncidents } from '../../../src/lib/server/history/queries';
import { describeBackends, useDb } from './backends';

const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 1, 3, 0);
const view: View = {
	pool: { master: 'h1', haEnabled: true, hostFailuresToTolerate: 1, planExistsFor: 1, overcommitted: false, haTimeoutS: 60 },
	hosts: {
		h1: { uuid: 'u-h1', name: 'host-1', live: true, liveChangedAt: null, memoryFree: 1, memoryTotal: 2 },
		h2: { uuid: 'u-h2', name: 'host-2', live: false, liveChangedAt: null, memoryFree: 1, memoryTotal: 2 }
	},
	vms: {
		a: { uuid: 'u-a', name: 'a', power: 'Running', residentOn: 'h1', priority: 'restart', order: 0, startedAt: null },
		b: { uuid: 'u-b', name: 'b', power: 'Halted', residentOn: 'OpaqueRef:NULL', priority: '', order: 0, startedAt: null }
	}
};
const dead = (at: number): Fact => ({ kind: 'host_dead', at, objectClass: 'host', ref: 'h2', uuid: 'u-h2', name: 'host-2', detail: {} });
const failedMessage = (at: number, uuid: string): Fact => ({ kind: 'ha_message', at, objectClass: 'message', uuid: 'u-h2', name: 'HA_HOST_FAILED', messageUuid: uuid, detail: { name: 'HA_HOST_FAILED', cls: 'Host', body: '' } });
const back = (at: number): Fact => ({ kind: 'host_back', at, objectClass: 'host', ref: 'h2', uuid: 'u-h2', name: 'host-2', detail: {} });
const halted = (vm: 'a' | 'b', at: number): Fact => ({ kind: 'vm_halted', at, objectClass: 'VM', ref: vm, uuid: `u-${vm}`, name: vm, detail: { from: 'h2', fromName: 'host-2', priority: vm === 'a' ? 'restart' : '', order: 0, inferred: false } });
const started = (vm: 'a' | 'b', at: number): Fact => ({ kind: 'vm_started', at, objectClass: 'VM', ref: vm, uuid: `u-${vm}`, name: vm, detail: { on: 'h1', onName: 'host-1' } });

describeBackends('incident grouping', (backend) => {
	const shared = useDb(backend);
	const record = (facts: Fact[], now: number, windowMs = 60 * MIN) => shared.db.transaction((tx) => recordFacts(tx, facts, { poolId: 'p', view, now, windowMs }));

	it('groups a failure reported twice, its halts and restarts, and closes once HA\'s VMs are back', async () => {
		// host_metrics first, then the message in a later batch; halts observed a little late.
		await record([dead(T0), halted('a', T0 + 5000), halted('b', T0 + 5000)], T0 + 5000);
		await record([failedMessage(T0 + 1000, 'm1')], T0 + 6000);
		let [incident] = await listIncidents(shared.db, 'p');
		expect(incident).toMatchObject({ status: 'open', vmsHalted: 2, vmsRestarted: 0 });
		// The unprotected VM never comes back; the incident still closes once 'a' runs.
		await record([started('a', T0 + 40_000)], T0 + 41_000);
		[incident] = await listIncidents(shared.db, 'p');
		expect(incident).toMatchObject({ status: 'closed', vmsHalted: 2, vmsRestarted: 1, vmsNotRestarted: 1 });
		expect(incident!.closedAt?.getTime()).toBe(T0 + 40_000);
		const detail = await getIncident(shared.db, incident!.id);
		// Halted when the host was declared dead, however late we saw it.
		expect(detail!.entries.find((e) => e.kind === 'vms_halted')?.vms?.map((vm) => vm.haltedAt?.getTime())).toEqual([T0, T0]);
		expect(detail!.groups[0]?.vms[0]).toMatchObject({ name: 'a', downtimeMs: 40_000, startedOn: { ref: 'h1', name: 'host-1' } });
		// Replaying the same message (a restart, a resync) changes nothing.
		await record([failedMessage(T0 + 1000, 'm1')], T0 + 50_000);
		expect(await listIncidents(shared.db, 'p')).toHaveLength(1);
	});

	it('counts a failure after the host came back as a new incident, however soon', async () => {
		await record([dead(T0), halted('a', T0)], T0);
		await record([started('a', T0 + 30_000)], T0 + 30_000);
		await record([back(T0 + 60_000)], T0 + 60_000);
		await record([dead(T0 + 2 * MIN), failedMessage(T0 + 2 * MIN, 'm2')], T0 + 2 * MIN);
		const [second, first] = await listIncidents(shared.db, 'p');
		expect(first?.startedAt.getTime()).toBe(T0);
		expect(second?.startedAt.getTime()).toBe(T0 + 2 * MIN);
		expect((await getIncident(shared.db, first!.id))!.entries.map((e) => e.kind)).toContain('host_back');
	});

	it('closes an incident whose VMs never come back once the window has passed', async () => {
		await record([dead(T0), halted('a', T0)], T0, 10 * MIN);
		await record([], T0 + 5 * MIN, 10 * MIN);
		expect((await listIncidents(shared.db, 'p'))[0]?.status).toBe('open');
		await record([], T0 + 11 * MIN, 10 * MIN);
		const [incident] = await listIncidents(shared.db, 'p');
		expect(incident?.status).toBe('closed');
		expect((await getIncident(shared.db, incident!.id))!.notRestarted.map((vm) => [vm.name, vm.reason])).toEqual([['a', 'HA did not restart it']]);
	});

	it('leaves a VM shut down on a healthy host out of any incident', async () => {
		const shutdown: Fact = { ...halted('a', T0), detail: { from: 'h1', fromName: 'host-1', priority: 'restart', order: 0, inferred: false } };
		await record([shutdown], T0);
		expect(await listIncidents(shared.db, 'p')).toEqual([]);
	});

	it('lists the VMs left running on a host that died without HA', async () => {
		const noHa: View = { ...view, pool: { ...view.pool!, haEnabled: false }, vms: { ...view.vms, c: { uuid: 'u-c', name: 'c', power: 'Running', residentOn: 'h2', priority: '', order: 0, startedAt: null } } };
		await shared.db.transaction((tx) => recordFacts(tx, [dead(T0)], { poolId: 'p', view: noHa, now: T0, windowMs: 60 * MIN }));
		const [incident] = await listIncidents(shared.db, 'p');
		expect(incident).toMatchObject({ vmsHalted: 0, vmsNotRestarted: 1, vmsStranded: 1 });
		const detail = await getIncident(shared.db, incident!.id);
		expect(detail!.notRestarted.map((vm) => [vm.name, vm.reason])).toEqual([['c', 'left on the dead host: HA did not act (HA off?), so nothing restarts it']]);
		expect(detail!.entries.map((e) => e.kind)).toEqual(['host_lost', 'host_declared_dead', 'vms_halted']);
	});
});
