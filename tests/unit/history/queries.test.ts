import { expect, it } from 'vitest';
import { exportAuditCsv, createAuditLog } from '../../../src/lib/server/history/audit';
import { getIncident, listIncidents, listPoolEvents, toleranceTrend } from '../../../src/lib/server/history/queries';
import { describeBackends, useDb } from './backends';

const GiB = 2 ** 30;
const t = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 3, minutes));

describeBackends('history queries', (backend) => {
	const shared = useDb(backend);

	async function sample(minutes: number, planExistsFor: number, freeGiB: number, overcommitted = false) {
		await shared.db.query(
			`insert into tolerance_samples (pool_id, at, ha_enabled, host_failures_to_tolerate, plan_exists_for, overcommitted, memory_free_bytes, memory_total_bytes, live_hosts, hosts)
			 values ('p', $1, true, 1, $2, $3, $4, $5, 3, 3)`,
			[t(minutes), planExistsFor, overcommitted, freeGiB * GiB, 192 * GiB]
		);
	}

	it('gives the tolerance trend raw, starting with the sample in force, or as worst-per-bucket', async () => {
		const { db } = shared;
		await sample(0, 1, 100);
		await sample(20, 1, 90);
		await sample(25, 0, 40, true);
		await sample(28, 1, 80);
		await sample(50, 1, 85);
		const raw = await toleranceTrend(db, 'p', { from: t(10), to: t(60) });
		expect(raw.map((p) => [p.at.getTime(), p.planExistsFor])).toEqual([
			[t(0).getTime(), 1],
			[t(20).getTime(), 1],
			[t(25).getTime(), 0],
			[t(28).getTime(), 1],
			[t(50).getTime(), 1]
		]);
		const buckets = await toleranceTrend(db, 'p', { from: t(10), to: t(60), bucketMs: 30 * 60_000 });
		// Buckets from `from`: [03:10, 03:40) holds the carried-in sample and the dip, [03:40, 04:10) does not.
		expect(buckets.map((p) => [p.at.toISOString(), p.planExistsFor, p.overcommitted, p.memoryFreeBytes / GiB])).toEqual([
			[t(10).toISOString(), 0, true, 40],
			[t(40).toISOString(), 1, false, 85]
		]);
		await expect(toleranceTrend(db, 'p', { from: t(10), to: t(5) })).rejects.toThrow(/to must be after from/);
		await expect(toleranceTrend(db, 'p', { from: t(10), to: 'not a date' })).rejects.toThrow(/to: not a valid date/);
	});

	it('lists a pool\'s events in a time range and by kind', async () => {
		const { db } = shared;
		for (const [minutes, kind] of [
			[1, 'host_dead'],
			[2, 'vm_halted'],
			[3, 'vm_started'],
			[70, 'vm_power']
		] as const) {
			await db.query(`insert into pool_events (pool_id, at, kind) values ('p', $1, $2)`, [t(minutes), kind]);
		}
		await db.query(`insert into pool_events (pool_id, at, kind) values ('other', $1, 'host_dead')`, [t(1)]);
		expect((await listPoolEvents(db, 'p', { from: t(0), to: t(60) })).map((e) => e.kind)).toEqual(['host_dead', 'vm_halted', 'vm_started']);
		expect((await listPoolEvents(db, 'p', { kinds: ['vm_power', 'host_dead'] })).map((e) => e.kind)).toEqual(['host_dead', 'vm_power']);
		expect(await listIncidents(db, 'p')).toEqual([]);
		expect(await getIncident(db, 999)).toBeUndefined();
		await expect(getIncident(db, -1)).rejects.toThrow(/invalid incident id: .*must be positive/);
		await expect(listPoolEvents(db, '')).rejects.toThrow(/invalid pool id/);
	});

	it('exports the filtered audit log as CSV', async () => {
		const { db } = shared;
		const audit = createAuditLog(db, 'i');
		await audit.record({ user: 'admin', role: 'pool-admin', pool: 'p', action: 'pool.enable_ha', request: {} }, async () => 'ok');
		await audit.record({ user: 'operator', role: 'pool-operator', pool: 'p', action: 'VM.set_order', request: { order: 2 } }, async () => '');
		const csv = await exportAuditCsv(db, { user: 'operator' });
		const lines = csv.trimEnd().split('\r\n');
		expect(lines).toHaveLength(2);
		expect(lines[1]).toMatch(/^2,.*,operator,pool-operator,p,VM\.set_order,success,"\{""order"":2\}","""""",$/);
	});
});
