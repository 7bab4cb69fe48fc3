/**
 * The two engines every history test runs on. PGlite needs nothing; PostgreSQL comes from
 * TEST_DATABASE_URL (`npm test` starts one with scripts/ensure-postgres.mjs). Without it the
 * PostgreSQL half fails in CI (CI must prove both) and is skipped, visibly, elsewhere.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { openDb, type Db, type OpenDbOptions } from '../../../src/lib/server/history/db';
import { migrate } from '../../../src/lib/server/history/migrations';

export interface TestBackend {
	name: 'pglite' | 'postgres';
	/** Connection options for a fresh, empty database (PGlite: on disk when `onDisk`). */
	fresh(opts?: { onDisk?: boolean }): { options: OpenDbOptions; cleanup(): Promise<void> };
}

const pgUrl = process.env['TEST_DATABASE_URL']?.trim() || undefined;

const pglite: TestBackend = {
	name: 'pglite',
	fresh({ onDisk = false } = {}) {
		if (!onDisk) return { options: { dataDir: 'memory://' }, cleanup: async () => {} };
		const dir = mkdtempSync(join(tmpdir(), 'haven-history-'));
		return { options: { dataDir: join(dir, 'pglite') }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
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
		db = await openDb(fresh.options);
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
