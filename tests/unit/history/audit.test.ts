import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { auditToCsv, createAuditLog, queryAudit, redactSecrets } from '../../../src/lib/server/history/audit';
import { csvCell } from '../../../src/lib/server/history/csv';
import { openDb } from '../../../src/lib/server/history/db';
import { startInstance } from '../../../src/lib/server/history/instance';
import { migrate } from '../../../src/lib/server/history/migrations';
import { XapiError } from '../../../src/lib/xapi/errors';
import { describeBackends, openFresh, useDb } from './backends';

const change = { user: 'admin', role: 'pool-admin', pool: 'demo', action: 'pool.set_ha_host_failures_to_tolerate', request: { value: 1 } };

describeBackends('audit log', (backend) => {
	const shared = useDb(backend);

	it('writes the intent before the call and the answer after it', async () => {
		const { db } = shared;
		const instance = await startInstance({ db });
		const audit = createAuditLog(db, instance.id);
		let seenDuringCall: string | undefined;
		await audit.record(change, async () => {
			seenDuringCall = (await queryAudit(db))[0]?.outcome;
			return 'OpaqueRef:task';
		});
		await expect(
			audit.record({ ...change, request: { value: 3 } }, async () => {
				throw new XapiError('HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN', []);
			})
		).rejects.toThrow(XapiError);
		await instance.stop();

		expect(seenDuringCall).toBe('pending');
		const [failed, ok] = await queryAudit(db);
		expect(ok).toMatchObject({ user: 'admin', role: 'pool-admin', pool: 'demo', outcome: 'success', request: { value: 1 }, response: 'OpaqueRef:task', error: null });
		expect(ok?.finishedAt).toBeInstanceOf(Date);
		expect(failed).toMatchObject({ outcome: 'failure', request: { value: 3 }, error: { code: 'HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN', params: [] } });
	});

	it('never stores secrets, even when the caller passes them', async () => {
		const { db } = shared;
		const audit = createAuditLog(db, 'i1');
		const id = await audit.begin({ ...change, action: 'session.login', request: { user: 'root', password: 'hunter2', nested: [{ sessionRef: 'OpaqueRef:s' }] } });
		await audit.end(id, { outcome: 'success', response: { session: 'OpaqueRef:secret' } });
		const [entry] = await queryAudit(db);
		expect(JSON.stringify(entry)).not.toMatch(/hunter2|OpaqueRef:s/);
		expect(entry?.request).toEqual({ user: 'root', password: '[redacted]', nested: [{ sessionRef: '[redacted]' }] });
		expect(redactSecrets({ Authorization: 'Basic x' })).toEqual({ Authorization: '[redacted]' });
	});

	it('keeps a preview, not the whole of a huge answer', async () => {
		const { db } = shared;
		const audit = createAuditLog(db, 'i1');
		await audit.record(change, async () => ({ records: 'x'.repeat(200_000) }));
		const [entry] = await queryAudit(db);
		expect(entry?.response).toMatchObject({ truncated: true, chars: 200_014 });
		expect(JSON.stringify(entry?.response).length).toBeLessThan(3000);
	});

	it('filters by user, pool, action, outcome and time, newest first, with a cursor', async () => {
		const { db } = shared;
		const audit = createAuditLog(db, 'i1');
		for (const [user, pool, outcome] of [
			['admin', 'a', 'success'],
			['operator', 'a', 'failure'],
			['admin', 'b', 'success'],
			['admin', 'a', 'failure']
		] as const) {
			const id = await audit.begin({ ...change, user, pool });
			await audit.end(id, outcome === 'success' ? { outcome } : { outcome, error: new Error('no') });
		}
		await db.query(`update audit_log set started_at = '2026-01-01T00:00:00Z' where id = 1`);
		expect((await queryAudit(db, { user: 'admin' })).map((e) => e.id)).toEqual([4, 3, 1]);
		expect((await queryAudit(db, { user: 'admin', pool: 'a', outcome: 'failure' })).map((e) => e.id)).toEqual([4]);
		expect((await queryAudit(db, { action: 'nothing.like.this' })).length).toBe(0);
		expect((await queryAudit(db, { to: '2026-06-01T00:00:00Z' })).map((e) => e.id)).toEqual([1]);
		expect((await queryAudit(db, { from: new Date('2026-06-01T00:00:00Z') })).map((e) => e.id)).toEqual([4, 3, 2]);
		expect((await queryAudit(db, { limit: 2 })).map((e) => e.id)).toEqual([4, 3]);
		expect((await queryAudit(db, { limit: 2, beforeId: 3 })).map((e) => e.id)).toEqual([2, 1]);
	});

	it('names the bad field in a filter or entry', async () => {
		const { db } = shared;
		await expect(queryAudit(db, { outcome: 'maybe' as never })).rejects.toThrow(/invalid audit filter: outcome: must be one of pending, success/);
		await expect(queryAudit(db, { from: 'yesterday-ish' })).rejects.toThrow(/from: not a valid date/);
		await expect(createAuditLog(db, 'i1').begin({ ...change, user: '  ' })).rejects.toThrow(/invalid audit entry: user: must not be empty/);
		await expect(createAuditLog(db, 'i1').end(12345, { outcome: 'success' })).rejects.toThrow(/no audit entry 12345/);
	});

	it('exports CSV that spreadsheets can neither misparse nor execute', async () => {
		const { db } = shared;
		const audit = createAuditLog(db, 'i1');
		const id = await audit.begin({ ...change, user: '=HYPERLINK("http://evil","x")', pool: 'pool, "quoted"\nline' });
		await audit.end(id, { outcome: 'success', response: '' });
		const csv = auditToCsv(await queryAudit(db));
		const [header, row] = csv.split('\r\n');
		expect(header).toBe('id,started_at,finished_at,user,role,pool,action,outcome,request,response,error');
		expect(row).toContain(`"'=HYPERLINK(""http://evil"",""x"")"`);
		expect(csv).toContain('"pool, ""quoted""\nline"');
		expect(csvCell('+1')).toBe("'+1");
		expect(csvCell('-2')).toBe("'-2");
		expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
		expect(csvCell(-2)).toBe('-2');
		expect(csvCell(' padded')).toBe('" padded"');
	});

	it('marks a change interrupted when its instance was killed mid-call, losing nothing else', async () => {
		// A real process, really killed: PGlite must recover its data folder, PostgreSQL must
		// notice the owner is gone (same machine, pid no longer exists).
		const fresh = backend.fresh({ onDisk: true });
		try {
			// Prepared here (PGlite from the cached dump: initdb in the child would take seconds).
			const prepared = await openFresh(fresh);
			await migrate(prepared);
			await prepared.close();
			const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/audit-crash-child.ts', import.meta.url)), JSON.stringify(fresh.options)], {
				stdio: ['ignore', 'pipe', 'pipe']
			});
			let stderr = '';
			child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
			const ids = await new Promise<[number, number]>((resolve, reject) => {
				let out = '';
				child.stdout.on('data', (d: Buffer) => {
					out += d.toString();
					const m = /PENDING (\d+) (\d+)/.exec(out);
					if (m) resolve([Number(m[1]), Number(m[2])]);
				});
				child.on('exit', (code) => reject(new Error(`child exited (${code}) before its change began: ${stderr}`)));
			});
			const exited = new Promise((resolve) => child.on('exit', resolve));
			child.kill('SIGKILL');
			await exited;

			const db = await openDb(fresh.options);
			try {
				// PGlite: only one process can open the folder, so every other instance is gone.
				expect(db.exclusive).toBe(backend.name === 'pglite');
				await migrate(db);
				const instance = await startInstance({ db });
				await instance.stop();
				const entries = await queryAudit(db);
				expect(entries.map((e) => [e.id, e.action, e.outcome])).toEqual([
					[ids[1], 'pool.enable_ha', 'interrupted'],
					[ids[0], 'VM.set_ha_restart_priority', 'success']
				]);
				expect(entries[0]?.request).toEqual({ heartbeat_srs: ['OpaqueRef:sr'] });
				expect(entries[0]?.error).toMatchObject({ code: 'INTERRUPTED' });
				expect(entries[0]?.finishedAt).toBeInstanceOf(Date);
			} finally {
				await db.close();
			}
		} finally {
			await fresh.cleanup();
		}
	});

	it('leaves a live peer\'s pending change alone, and closes it once the peer stops answering', async () => {
		const { db } = shared;
		const peer = await startInstance({ db, heartbeatMs: 60_000 });
		const id = await createAuditLog(db, peer.id).begin(change);
		const me = await startInstance({ db, heartbeatMs: 60_000, staleAfterMs: 60_000 });
		// PGlite: one process owns the folder, so any other instance is gone. In memory there
		// is no folder, so it behaves like PostgreSQL here.
		expect(await me.sweep()).toBe(0);
		expect((await queryAudit(db))[0]?.outcome).toBe('pending');
		await db.query(`update haven_instances set heartbeat_at = now() - interval '2 minutes' where id = $1`, [peer.id]);
		expect(await me.sweep()).toBe(1);
		const [entry] = await queryAudit(db);
		expect(entry).toMatchObject({ id, outcome: 'interrupted' });
		// The slow peer's late answer still lands: the truth beats the guess.
		await createAuditLog(db, peer.id).end(id, { outcome: 'success', response: 'late' });
		expect((await queryAudit(db))[0]).toMatchObject({ outcome: 'success', response: 'late' });
		await me.stop();
		await peer.stop();
	});
});
