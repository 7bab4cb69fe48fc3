import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { startCollector } from '../../../src/lib/server/history/collector';
import { acquireLease, leaseHolder } from '../../../src/lib/server/history/lease';
import { getIncident, listIncidents, listPoolEvents } from '../../../src/lib/server/history/queries';
import { describeBackends, useDb } from './backends';
import { useCollectorRun, waitFor } from './helpers';

describeBackends('collector leadership', (backend) => {
	const shared = useDb(backend);
	const run = useCollectorRun();

	it('lets exactly one instance hold a pool\'s lease until it expires or is released', async () => {
		const { db } = shared;
		expect(await acquireLease(db, 'p', 'a', 60_000)).toBe(true);
		expect(await acquireLease(db, 'p', 'b', 60_000)).toBe(false);
		expect(await acquireLease(db, 'p', 'a', 60_000)).toBe(true); // renewal
		expect(await acquireLease(db, 'q', 'b', 60_000)).toBe(true); // another pool
		await db.query(`update collector_leases set expires_at = now() - interval '1 second' where pool_id = 'p'`);
		expect(await acquireLease(db, 'p', 'b', 60_000)).toBe(true);
		expect((await leaseHolder(db, 'p'))?.owner).toBe('b');
		// Racing for a free lease: one winner.
		await db.query(`delete from collector_leases`);
		const results = await Promise.all(['x', 'y', 'z', 'w'].map((owner) => acquireLease(db, 'p', owner, 60_000)));
		expect(results.filter(Boolean)).toHaveLength(1);
	});

	it('runs one collector per pool among two instances, and the other takes over when it stops', async () => {
		const { db } = shared;
		const p = await run.startPool();
		const leadership: string[] = [];
		const make = (owner: string) =>
			startCollector({ db, poolId: 'demo', owner, connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 1500, eventTimeoutS: 5, onLeadership: (l) => leadership.push(`${owner}:${l}`) });
		const a = make('instance-a');
		run.track(a);
		await waitFor('a to lead', async () => a.leading);
		const b = make('instance-b');
		run.track(b);
		await new Promise((r) => setTimeout(r, 1000));
		expect([a.leading, b.leading]).toEqual([true, false]);
		expect((await leaseHolder(db, 'demo'))?.owner).toBe('instance-a');

		await a.stop();
		await waitFor('b to take over', async () => b.leading);
		expect((await leaseHolder(db, 'demo'))?.owner).toBe('instance-b');
		expect(leadership).toEqual(['instance-a:true', 'instance-a:false', 'instance-b:true']);
	});

	it('takes over from an instance that died holding the lease, and records what happened meanwhile', async () => {
		const { db } = shared;
		const p = await run.startPool();
		const dead = startCollector({ db, poolId: 'demo', owner: 'dead', connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 1500, eventTimeoutS: 5 });
		await waitFor('the first instance to record the pool', async () => dead.leading && (await db.query(`select 1 from observed_state where pool_id = 'demo'`)).length > 0);
		// It dies without a word: no more renewals, the lease still names it for a while.
		await dead.stop();
		await db.query(`insert into collector_leases (pool_id, owner, acquired_at, expires_at) values ('demo', 'dead', now(), now() + interval '1500 milliseconds')`);

		// A host fails while nobody collects: every restart is over before anyone looks.
		await p.control('/control/hosts/xcp-host-3/fail');
		await p.control('/control/settle');
		const heir = startCollector({ db, poolId: 'demo', owner: 'heir', connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 1500, eventTimeoutS: 5 });
		run.track(heir);
		expect(heir.leading).toBe(false);
		const [summary] = await waitFor('the heir to record the incident', async () => {
			const list = await listIncidents(db, 'demo');
			return list[0]?.status === 'closed' ? list : undefined;
		});
		expect(heir.leading).toBe(true);
		const incident = await getIncident(db, summary!.id);
		expect(incident?.host.name).toBe('xcp-host-3');
		const byName = Object.fromEntries(incident!.entries.find((e) => e.kind === 'vms_halted')!.vms!.map((vm) => [vm.name, vm]));
		// Seen only as "running elsewhere, started anew": the halt is inferred, the restart real.
		expect(byName['app-1']).toMatchObject({ haltInferred: true, startedOn: { name: expect.stringMatching(/xcp-host-[12]/) } });
		expect(byName['app-2']?.startedAt).toBeInstanceOf(Date);
		expect(byName['ldap']).toMatchObject({ haltInferred: false, startedAt: null });
		// Nothing recorded twice: one HA_HOST_FAILED, one incident.
		const messages = await listPoolEvents(db, 'demo', { kinds: ['ha_message'] });
		expect(messages.filter((m) => m.objectName === 'HA_HOST_FAILED')).toHaveLength(1);
		expect(await listIncidents(db, 'demo')).toHaveLength(1);
	});

	it('stops promptly even while the pool does not answer the login', async () => {
		const { db } = shared;
		const collector = startCollector({ db, poolId: 'silent', owner: 'x', connect: () => new Promise(() => {}), leaseTtlMs: 1500 });
		await waitFor('the lease', async () => collector.leading);
		const started = Date.now();
		await collector.stop();
		expect(Date.now() - started).toBeLessThan(5000);
		expect(collector.leading).toBe(false);
		expect(await leaseHolder(db, 'silent')).toBeUndefined();
	});

	it.runIf(backend.name === 'postgres')('takes over from an instance whose process was killed', async () => {
		const { db, options } = shared;
		const p = await run.startPool();
		const child = spawn(
			process.execPath,
			[
				'--import',
				'tsx',
				fileURLToPath(new URL('./fixtures/collector-child.ts', import.meta.url)),
				JSON.stringify({ db: options, address: p.sim.address, password: p.sim.password, poolId: 'demo', owner: 'child', leaseTtlMs: 1500 })
			],
			{ stdio: ['ignore', 'pipe', 'pipe'] }
		);
		let stderr = '';
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		await new Promise<void>((resolve, reject) => {
			child.stdout.on('data', (d: Buffer) => d.toString().includes('LEADING') && resolve());
			child.on('exit', (code) => reject(new Error(`collector child exited (${code}): ${stderr}`)));
		});
		const survivor = startCollector({ db, poolId: 'demo', owner: 'survivor', connect: p.connect, clock: () => p.sim.pool.clock.now(), leaseTtlMs: 1500, eventTimeoutS: 5 });
		run.track(survivor);
		await new Promise((r) => setTimeout(r, 700));
		expect(survivor.leading).toBe(false);
		const exited = new Promise((resolve) => child.on('exit', resolve));
		child.kill('SIGKILL');
		await exited;
		await waitFor('the survivor to take over', async () => survivor.leading, 10_000);
		expect((await leaseHolder(db, 'demo'))?.owner).toBe('survivor');
	});
});
