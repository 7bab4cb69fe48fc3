/**
 * The two engines every history test runs on. PGlite needs nothing; PostgreSQL comes from
 * TEST_DATABASE_URL (`npm test` starts one with scripts/ensure-postgres.mjs). Without it the
 * PostgreSQL half fails in CI (CI must prove both) and is skipped, visibly, elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, it, vi } from 'vitest';
import { openDb, type Db, type OpenDbOptions } from '../../../src/lib/server/history/db';
import { migrate } from '../../../src/lib/server/history/migrations';

const require = createRequire(import.meta.url);

export interface TestBackend {
	name: 'pglite' | 'postgres';
	/** Connection options for a fresh, empty database (PGlite: on disk when `onDisk`). */
	fresh(opts?: { onDisk?: boolean }): { options: OpenDbOptions; cleanup(): Promise<void>; dump?: () => Promise<Blob> };
}

// These suites boot PGlite, spawn and kill processes and drive a simulated pool: on a busy
// 2-core CI machine that can take several times as long as on an idle one.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

const pgUrl = process.env['TEST_DATABASE_URL']?.trim() || undefined;

/**
 * initdb takes PGlite seconds (many on a busy 2-core machine); an empty cluster's dump loads
 * several times faster. It is cached in the temp folder per PGlite version, written atomically
 * so test files racing to create it never read half a file.
 */
async function pgliteDump(): Promise<Blob> {
	const version = (JSON.parse(readFileSync(join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json'), 'utf8')) as { version: string }).version;
	const file = join(tmpdir(), `haven-pglite-${version}-empty.tar`);
	if (existsSync(file)) return new Blob([readFileSync(file)]);
	const { PGlite } = await import('@electric-sql/pglite');
	const pg = await PGlite.create('memory://');
	const dump = await pg.dumpDataDir('none');
	await pg.close();
	const partial = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
	writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
	renameSync(partial, file);
	return dump;
}

const pglite: TestBackend = {
	name: 'pglite',
	fresh({ onDisk = false } = {}) {
		if (!onDisk) return { options: { dataDir: 'memory://' }, dump: pgliteDump, cleanup: async () => {} };
		const dir = mkdtempSync(join(tmpdir(), 'haven-history-'));
		return { options: { dataDir: join(dir, 'pglite') }, dump: pgliteDump, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
	}
};

const postgresBackend: TestBackend = {
	name: 'postgres',
	fresh() {
		if (!pgUrl) throw new Error('TEST_DATABASE_URL is not set');
		const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
		return {
			options: { url: pgUrl, schema },
			cleanup: async () => {
				const db = await openDb({ url: pgUrl });
				try {
					await db.query(`drop schema if exists ${schema} cascade`);
				} finally {
					await db.close();
				}
			}
		};
	}
};

export const backends: TestBackend[] = [pglite, postgresBackend];

const skipReason = pgUrl ? undefined : 'TEST_DATABASE_URL is not set (run: TEST_DATABASE_URL=$(node scripts/ensure-postgres.mjs) npx vitest run tests/unit/history)';
let warned = false;

/**
 * describe.each over both engines. The PostgreSQL block without a server: a failing test in
 * CI, a skipped block (named after the reason) elsewhere.
 */
export function describeBackends(title: string, body: (backend: TestBackend) => void): void {
	describe.each(backends)(`${title} [$name]`, (backend) => {
		if (backend.name === 'postgres' && skipReason) {
			if (process.env['CI']) {
				it('has a PostgreSQL server to run against', () => {
					throw new Error(`CI must run the history suite on PostgreSQL too, but ${skipReason}`);
				});
				return;
			}
			if (!warned) {
				warned = true;
				console.warn(`history tests: PostgreSQL variant SKIPPED: ${skipReason}`);
			}
			it.skip(`PostgreSQL variant skipped: ${skipReason}`, () => {});
			return;
		}
		body(backend);
	});
}

/** Opens a database from `backend.fresh()`, from the cached empty dump for PGlite. */
export async function openFresh(fresh: ReturnType<TestBackend['fresh']>): Promise<Db> {
	return openDb({ ...fresh.options, ...(fresh.dump ? { pgliteDump: await fresh.dump() } : {}) });
}

const TABLES = ['pool_events', 'incidents', 'tolerance_samples', 'observed_state', 'collector_leases', 'audit_log', 'haven_instances'];

/**
 * One migrated database for the whole describe block (PGlite takes a second or two to boot),
 * emptied before each test.
 */
export function useDb(backend: TestBackend): { readonly db: Db; readonly options: OpenDbOptions } {
	let db: Db | undefined;
	let fresh: ReturnType<TestBackend['fresh']> | undefined;
	beforeAll(async () => {
		fresh = backend.fresh();
		db = await openFresh(fresh);
		await migrate(db);
	});
	beforeEach(async () => {
		await db?.query(`truncate ${TABLES.join(', ')} restart identity cascade`);
	});
	afterAll(async () => {
		await db?.close();
		await fresh?.cleanup();
	});
	return {
		get db() {
			if (!db) throw new Error('database not open yet');
			return db;
		},
		get options() {
			if (!fresh) throw new Error('database not open yet');
			return fresh.options;
		}
	};
}
