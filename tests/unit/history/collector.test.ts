import { expect, it } from 'vitest';
import { startCollector } from '../../../src/lib/server/history/collector';
import { getIncident, listIncidents, listPoolEvents, toleranceTrend } from '../../../src/lib/server/history/queries';
import { XapiClient } from '../../../src/lib/xapi/client';
import { startSimulatedPool } from '../../../src/lib/xapi/sim';
import { describeBackends, useDb } from './backends';
import { useCollectorRun, waitFor } from './helpers';

describeBackends('collector', (backend) => {
	const shared = useDb(backend);
	const run = useCollectorRun();

	it('records a host failure in the simulated pool as a complete incident', async () => {
		const { db } = shared;
		const p = await run.startPool();
		const errors: unknown[] = [];
		const collector = startCollector({
			db,
			poolId: 'demo',
			connect: p.connect,
			clock: () => p.sim.pool.clock.now(),
			leaseTtlMs: 5000,
			eventTimeoutS: 5,
			onError: (e) => errors.push(e)
		});
		run.track(collector);
		await waitFor('the collector to record its first state', async () => (await db.query(`select 1 from observed_state where pool_id = 'demo'`)).length > 0);

		await p.control('/control/hosts/xcp-host-3/fail');
		await p.control('/control/settle');
		const [summary] = await waitFor('a closed incident', async () => {
			const list = await listIncidents(db, 'demo');
			return list[0]?.status === 'closed' ? list : undefined;
		});
		expect(summary).toMatchObject({ host: { ref: p.host('xcp-host-3'), name: 'xcp-host-3' }, vmsHalted: 3, vmsRestarted: 2, vmsNotRestarted: 1 });

		const incident = await getIncident(db, summary!.id);
		if (process.env.DEBUG_INCIDENT) console.log(JSON.stringify(incident, null, 1));
		expect(incident).toBeDefined();
		const kinds = incident!.entries.map((e) => e.kind);
		expect(kinds.slice(0, 3)).toEqual(['host_lost', 'host_declared_dead', 'vms_halted']);
		expect(incident!.entries[1]?.detail).toMatchObject({ message: 'HA_HOST_FAILED' });
		expect(kinds).toContain('vms_halted');
		expect(kinds.filter((k) => k === 'restart_group')).toHaveLength(2);
		// Lost about T (60 s) before it was declared dead; halted at the declaration.
		expect(incident!.haTimeoutS).toBe(60);
		expect(incident!.declaredDeadAt!.getTime() - incident!.hostLostAt!.getTime()).toBe(60_000);
		const halted = incident!.entries.find((e) => e.kind === 'vms_halted')!;
		expect(halted.vms!.map((vm) => vm.name).sort()).toEqual(['app-1', 'app-2', 'ldap']);
		for (const vm of halted.vms!) expect(vm.haltedAt?.getTime()).toBe(incident!.declaredDeadAt!.getTime());

		// Restarted group by group, on surviving hosts, the second group after the first's delay.
		expect(incident!.groups.map((g) => [g.priority, g.order, g.vms.map((vm) => vm.name)])).toEqual([
			['restart', 0, ['app-1']],
			['restart', 1, ['app-2']]
		]);
		const [g0, g1] = incident!.groups;
		for (const g of [g0!, g1!]) {
			const vm = g.vms[0]!;
			expect(['xcp-host-1', 'xcp-host-2']).toContain(vm.startedOn?.name);
			expect(vm.startedOn?.ref).toBe(p.sim.pool.snapshot.VM[vm.ref]?.resident_on);
			expect(vm.downtimeMs).toBeGreaterThanOrEqual(0);
		}
		expect(g1!.firstStartedAt!.getTime() - g0!.firstStartedAt!.getTime()).toBeGreaterThanOrEqual(30_000);
		expect(incident!.recoveryMs).toBe(g1!.durationMs);

		// The VM HA was not asked to restart is named, with the reason.
		expect(incident!.notRestarted.map((vm) => [vm.name, vm.reason])).toEqual([['ldap', 'not protected by HA (restart priority not set)']]);

		// The raw log has the HA message, and the tolerance trend saw the pool shrink.
		const events = await listPoolEvents(db, 'demo', { kinds: ['ha_message'] });
		expect(events.map((e) => e.objectName)).toContain('HA_HOST_FAILED');
		const trend = await toleranceTrend(db, 'demo', { from: new Date(0), to: new Date(p.sim.pool.clock.now() + 1000) });
		expect(trend[0]).toMatchObject({ haEnabled: true, liveHosts: 3, hosts: 3 });
		expect(trend.at(-1)).toMatchObject({ haEnabled: true, liveHosts: 2, hosts: 3 });
		expect(trend.at(-1)!.memoryFreeBytes).toBeLessThan(trend[0]!.memoryFreeBytes);
		expect(errors.filter((e) => !(e instanceof Error && /ECONNREFUSED|cannot reach/.test(e.message)))).toEqual([]);
	});

	it('follows the pool through a master failure and keeps collecting on the new master', async () => {
		const { db } = shared;
		const p = await run.startPool();
		await p.admin.call('VM.set_ha_restart_priority', p.vm('web-1'), 'restart');
		const errorsSeen: string[] = [];
		const collector = startCollector({ db, poolId: 'demo', connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 5000, eventTimeoutS: 5, onError: (e) => errorsSeen.push(String(e)) });
		run.track(collector);
		await waitFor('the collector to record its first state', async () => (await db.query(`select 1 from observed_state where pool_id = 'demo'`)).length > 0);

		await p.control('/control/master/fail');
		await p.control('/control/settle');
		const first = await waitFor('the master failure incident', async () => {
			const list = await listIncidents(db, 'demo');
			return list.find((i) => i.host.name === 'xcp-host-1' && i.status === 'closed');
		});
		const incident = await getIncident(db, first.id);
		const master = incident!.entries.find((e) => e.kind === 'master_changed' && e.detail?.['from'] !== undefined);
		expect(master?.detail).toMatchObject({ fromName: 'xcp-host-1', toName: expect.stringMatching(/xcp-host-[23]/) });
		expect(incident!.groups.flatMap((g) => g.vms.map((vm) => [vm.name, vm.startedOn?.name]))).toEqual([['web-1', expect.stringMatching(/xcp-host-[23]/)]]);

		// Still collecting, now through the new master.
		await p.control('/control/hosts/xcp-host-3/fail');
		await p.control('/control/settle');
		await waitFor('the second incident', async () => (await listIncidents(db, 'demo')).find((i) => i.host.name === 'xcp-host-3' && i.status === 'closed'));
		expect(errorsSeen.filter((e) => !/cannot reach|ECONNREFUSED|SESSION_INVALID|HOST_IS_SLAVE/.test(e))).toEqual([]);
	});

	it('keeps sampling tolerance and headroom while the pool is quiet', async () => {
		const { db } = shared;
		const p = await run.startPool();
		const collector = startCollector({ db, poolId: 'demo', connect: p.connect, sampleIntervalMs: 300, leaseTtlMs: 5000, eventTimeoutS: 5 });
		run.track(collector);
		await waitFor('three samples', async () => {
			const rows = await db.query<{ n: number }>(`select count(*)::int as n from tolerance_samples where pool_id = 'demo'`);
			return (rows[0]?.n ?? 0) >= 3;
		});
		const trend = await toleranceTrend(db, 'demo', { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 1000) });
		expect(trend.every((s) => s.haEnabled && s.liveHosts === 3 && s.memoryFreeBytes > 0 && s.memoryTotalBytes > s.memoryFreeBytes)).toBe(true);
	});

	it('names the protected VMs HA could not restart, with the pool\'s reason', async () => {
		const { db } = shared;
		const p = await run.startPool();
		for (const name of ['db-replica', 'web-2', 'monitoring', 'ldap']) await p.admin.call('VM.set_ha_restart_priority', p.vm(name), 'restart');
		const collector = startCollector({ db, poolId: 'demo', connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 5000, eventTimeoutS: 5 });
		run.track(collector);
		await waitFor('the collector to record its first state', async () => (await db.query(`select 1 from observed_state where pool_id = 'demo'`)).length > 0);

		// Two of three hosts at once: xcp-host-1 cannot hold everything that was on them.
		await p.control('/control/hosts/xcp-host-2/fail');
		await p.control('/control/hosts/xcp-host-3/fail');
		await p.control('/control/settle');
		const failed = await waitFor('a restart failure on record', async () => {
			const events = await listPoolEvents(db, 'demo', { kinds: ['ha_message'] });
			return events.find((e) => e.objectName === 'HA_PROTECTED_VM_RESTART_FAILED');
		});
		expect(failed.incidentId).not.toBeNull();
		const incident = await getIncident(db, failed.incidentId!);
		const stuck = incident!.notRestarted.find((vm) => vm.uuid === failed.objectUuid);
		expect(stuck?.reason).toMatch(/HA could not restart|HA tried to restart it and failed/);
		expect(incident!.entries.some((e) => e.kind === 'restart_failed' && e.title.includes(stuck!.name!))).toBe(true);
		expect(incident!.status).toBe('open');
	});

	it('opens a new incident when a host fails again after coming back', async () => {
		const { db } = shared;
		const p = await run.startPool();
		const collector = startCollector({ db, poolId: 'demo', connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 5000, eventTimeoutS: 5 });
		run.track(collector);
		await waitFor('the collector to record its first state', async () => (await db.query(`select 1 from observed_state where pool_id = 'demo'`)).length > 0);
		await p.control('/control/hosts/xcp-host-3/fail');
		await p.control('/control/settle');
		await waitFor('the first incident to settle', async () => (await listIncidents(db, 'demo'))[0]?.status === 'closed');
		await p.control('/control/hosts/xcp-host-3/recover');
		await waitFor('the host to be back on record', async () => (await listPoolEvents(db, 'demo', { kinds: ['host_back'] })).length > 0);
		await p.control('/control/hosts/xcp-host-3/fail');
		await p.control('/control/settle');
		const [second, first] = await waitFor('a second incident', async () => {
			const list = await listIncidents(db, 'demo');
			return list.length === 2 ? list : undefined;
		});
		expect([second!.host.name, first!.host.name]).toEqual(['xcp-host-3', 'xcp-host-3']);
		expect((await getIncident(db, first!.id))!.entries.map((e) => e.kind)).toContain('host_back');
		expect((await getIncident(db, second!.id))!.entries.map((e) => e.kind)).toContain('host_declared_dead');
		expect(second!.startedAt.getTime()).toBeGreaterThan(first!.closedAt!.getTime());
	});

	it('records a host that fenced itself after losing the network, and its return', async () => {
		const { db } = shared;
		const p = await run.startPool();
		const collector = startCollector({ db, poolId: 'demo', connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 5000, eventTimeoutS: 5 });
		run.track(collector);
		await waitFor('the collector to record its first state', async () => (await db.query(`select 1 from observed_state where pool_id = 'demo'`)).length > 0);
		await p.control('/control/hosts/xcp-host-3/isolate');
		await p.control('/control/settle');
		const [incident] = await waitFor('the incident', async () => {
			const list = await listIncidents(db, 'demo');
			return list[0]?.status === 'closed' ? list : undefined;
		});
		await p.control('/control/hosts/xcp-host-3/recover');
		const kinds = await waitFor('fencing and return on the timeline', async () => {
			const detail = await getIncident(db, incident!.id);
			const k = detail?.entries.map((e) => e.kind) ?? [];
			return k.includes('host_fenced') && k.includes('host_back') ? k : undefined;
		});
		expect(kinds.indexOf('host_declared_dead')).toBeLessThan(kinds.indexOf('host_fenced'));
		expect(incident).toMatchObject({ vmsRestarted: 2, vmsNotRestarted: 1 });
	});

	it('records a host lost by a pool without HA, with the VMs nothing restarts', async () => {
		const { db } = shared;
		const sim = await startSimulatedPool({ speed: 600, password: 'pw', authFailureDelayMs: 0 });
		try {
			const connect = async () => {
				const client = new XapiClient({ address: sim.address, credentials: () => ({ user: 'helpdesk', password: sim.password }), probeTimeoutMs: 1000 });
				await client.login();
				return client;
			};
			const collector = startCollector({ db, poolId: 'plain', connect, clock: () => sim.pool.clock.now(), leaseTtlMs: 5000, eventTimeoutS: 5 });
			run.track(collector);
			await waitFor('the collector to record its first state', async () => (await db.query(`select 1 from observed_state where pool_id = 'plain'`)).length > 0);
			const res = await fetch(new URL('/control/hosts/xcp-host-3/fail', sim.controlUrl), { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
			expect(res.ok).toBe(true);
			const [incident] = await waitFor('the incident', async () => {
				const list = await listIncidents(db, 'plain');
				return list.length > 0 ? list : undefined;
			});
			expect(incident).toMatchObject({ host: { name: 'xcp-host-3' }, vmsHalted: 0, vmsStranded: 3, vmsNotRestarted: 3 });
			const detail = await getIncident(db, incident!.id);
			expect(detail!.notRestarted.map((vm) => vm.name).sort()).toEqual(['app-1', 'app-2', 'ldap']);
		} finally {
			await run.stopCollectors();
			await sim.stop();
		}
	});
});
