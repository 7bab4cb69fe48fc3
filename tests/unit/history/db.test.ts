import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../../../src/lib/server/history/db';
import { MIGRATIONS, migrate, type Migration } from '../../../src/lib/server/history/migrations';
import { describeBackends, openFresh } from './backends';

describeBackends('history database', (backend) => {
	// One database for the block: the first test migrates it (twice at once), the others use it.
	let fresh: ReturnType<typeof backend.fresh> | undefined;
	let a: Db | undefined;
	let b: Db | undefined;
	const shared = {
		get db(): Db {
			if (!a) throw new Error('database not open');
			return a;
		}
	};
	beforeAll(async () => {
		fresh = backend.fresh();
		a = await openFresh(fresh);
		// PGlite allows one connection; PostgreSQL gets a second, as a second instance would.
		b = backend.name === 'postgres' ? await openDb(fresh.options) : a;
	});
	afterAll(async () => {
		if (b && b !== a) await b.close();
		await a?.close();
		await fresh?.cleanup();
	});

	it('upgrades an older schema, applying each migration once even when two instances migrate at the same time', async () => {
		// A database written by a Haven that knew only the first migration.
		expect((await migrate(a!, MIGRATIONS.slice(0, 1))).applied).toEqual([1]);
		const [ra, rb] = await Promise.all([migrate(a!), migrate(b!)]);
		expect([...ra.applied, ...rb.applied].sort()).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
		const rows = await a!.query<{ version: number }>('select version from schema_migrations order by version');
		expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
		expect((await migrate(a!)).applied).toEqual([]);
	});

	it('rolls back a migration that fails half way, leaving the version unrecorded', async () => {
		const db = shared.db;
		const broken: Migration[] = [
			...MIGRATIONS,
			{ version: MIGRATIONS.length + 1, name: 'broken', statements: ['create table half_done (x int)', 'select no_such_function()'] }
		];
		await expect(migrate(db, broken)).rejects.toThrow(/no_such_function/);
		const tables = await db.query(`select 1 from information_schema.tables where table_name = 'half_done'`);
		expect(tables).toEqual([]);
		const versions = await db.query<{ n: number }>('select max(version) as n from schema_migrations');
		expect(versions[0]?.n).toBe(MIGRATIONS.length);
	});

	it('refuses a database written by a newer Haven', async () => {
		const db = shared.db;
		await db.query(`insert into schema_migrations (version, name) values (999, 'from the future')`);
		try {
			await expect(migrate(db)).rejects.toThrow(/schema version 999, newer than this Haven/);
		} finally {
			await db.query('delete from schema_migrations where version = 999');
		}
	});

	it('returns int8 as numbers, timestamptz as Dates, jsonb parsed, and commits or rolls back transactions', async () => {
		const db = shared.db;
		const [row] = await db.query<{ big: unknown; at: unknown; doc: unknown }>(
			`select 9007199254740991::int8 as big, $1::timestamptz as at, $2::jsonb as doc`,
			[new Date('2026-01-02T03:04:05Z'), JSON.stringify({ a: [1, 'x'] })]
		);
		expect(row).toEqual({ big: 9007199254740991, at: new Date('2026-01-02T03:04:05Z'), doc: { a: [1, 'x'] } });
		await db.query('create table tx_probe (x int)');
		try {
			await db.transaction(async (tx) => tx.query('insert into tx_probe values (1)'));
			await expect(
				db.transaction(async (tx) => {
					await tx.query('insert into tx_probe values (2)');
					throw new Error('changed my mind');
				})
			).rejects.toThrow('changed my mind');
			expect(await db.query('select x from tx_probe')).toEqual([{ x: 1 }]);
		} finally {
			await db.query('drop table tx_probe');
		}
	});
});

describe('openDb', () => {
	it('names what is wrong with a bad DATABASE_URL or schema', async () => {
		await expect(openDb({ url: 'mysql://x' })).rejects.toThrow(/DATABASE_URL must start with postgres:\/\//);
		await expect(openDb({ url: 'postgres://127.0.0.1:1/x', schema: 'Robert"); drop' })).rejects.toThrow(/schema name/);
	});
});
