/**
 * The history database: one small interface over two engines that speak the same SQL.
 *
 * - PGlite (Postgres compiled to wasm) in a data folder: the default, nothing to set up.
 *   Only one process may open a folder at a time, so it suits a single Haven instance.
 * - A real PostgreSQL server when `DATABASE_URL` is set: several Haven instances behind a load
 *   balancer share it (collector leases and instance heartbeats coordinate them).
 *
 * Both return int8 as a JS number (ids and byte counts stay below 2^53), timestamptz as Date
 * and jsonb as parsed values, so callers never branch on the engine.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import type { Sql } from 'postgres';

export type DbRow = Record<string, unknown>;

/** What a query or a transaction can do. `$1, $2, ...` placeholders in both engines. */
export interface DbExecutor {
	query<T extends DbRow = DbRow>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Db extends DbExecutor {
	readonly engine: 'pglite' | 'postgres';
	/**
	 * True when this process is the only possible user of the database (PGlite's folder lock),
	 * so rows owned by another instance id belong to a process that is gone.
	 */
	readonly exclusive: boolean;
	/** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
	transaction<T>(fn: (tx: DbExecutor) => Promise<T>): Promise<T>;
	close(): Promise<void>;
}

export interface OpenDbOptions {
	/** postgres://... : use that server. Absent: PGlite. */
	url?: string;
	/** PGlite's data folder; `memory://` (or undefined with `url` unset and `inMemory`) for none. */
	dataDir?: string;
	/**
	 * PostgreSQL only: a schema to work in (created when missing). Tests give each run its own
	 * so suites running side by side on one server never see each other's rows.
	 */
	schema?: string;
	/** PostgreSQL only: connection pool size. */
	maxConnections?: number;
	/**
	 * PGlite only, for a new folder or `memory://`: start from this dump (PGlite's
	 * `dumpDataDir`) instead of running initdb, which takes seconds. Tests use it.
	 */
	pgliteDump?: Blob;
}

const INT8_OID = 20;
const JSON_OID = 114;
const JSONB_OID = 3802;
const jsonText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Where PGlite keeps its files unless told otherwise: `HAVEN_DATA_DIR` or `.haven/data`. */
export function defaultDataDir(env: Record<string, string | undefined> = process.env): string {
	return resolve(env['HAVEN_DATA_DIR'] ?? '.haven/data', 'pglite');
}

/** Opens the database the environment asks for: `DATABASE_URL` if set, else PGlite on disk. */
export function openDbFromEnv(env: Record<string, string | undefined> = process.env): Promise<Db> {
	const url = env['DATABASE_URL']?.trim();
	return url ? openDb({ url }) : openDb({ dataDir: defaultDataDir(env) });
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
	if (options.url !== undefined) {
		if (!/^postgres(ql)?:\/\//.test(options.url)) {
			throw new Error('DATABASE_URL must start with postgres:// or postgresql://');
		}
		return openPostgres(options.url, options);
	}
	return openPglite(options.dataDir ?? 'memory://', options.pgliteDump);
}

async function openPglite(dataDir: string, dump: Blob | undefined): Promise<Db> {
	const { PGlite } = await import('@electric-sql/pglite');
	if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
	const pg: PGlite = await PGlite.create(dataDir, {
		parsers: { [INT8_OID]: (value: string) => Number(value) },
		...(dump ? { loadDataDir: dump } : {})
	});
	// PGlite runs one statement at a time; a transaction holds it exclusively, so plain queries
	// issued meanwhile simply wait their turn.
	const exec = (runner: Pick<PGlite, 'query'>): DbExecutor => ({
		async query<T extends DbRow>(sql: string, params: readonly unknown[] = []) {
			const result = await runner.query<T>(sql, [...params]);
			return result.rows;
		}
	});
	return {
		engine: 'pglite',
		exclusive: !dataDir.startsWith('memory://'),
		...exec(pg),
		transaction: (fn) => pg.transaction((tx) => fn(exec(tx))),
		close: () => pg.close()
	};
}

async function openPostgres(url: string, options: OpenDbOptions): Promise<Db> {
	const { default: postgres } = await import('postgres');
	const schema = options.schema;
	if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
		throw new Error(`schema name "${schema}" must be lower-case letters, digits and _`);
	}
	const sql: Sql = postgres(url, {
		max: options.maxConnections ?? 5,
		onnotice: () => {},
		connection: { application_name: 'haven', ...(schema ? { search_path: schema } : {}) },
		types: {
			int8: { to: INT8_OID, from: [INT8_OID], serialize: (v: unknown) => String(v), parse: (v: string) => Number(v) },
			// Callers pass JSON already encoded, as PGlite expects; the driver would encode it again.
			jsonb: { to: JSONB_OID, from: [JSONB_OID], serialize: jsonText, parse: (v: string) => JSON.parse(v) as unknown },
			json: { to: JSON_OID, from: [JSON_OID], serialize: jsonText, parse: (v: string) => JSON.parse(v) as unknown }
		}
	});
	if (schema !== undefined) await sql.unsafe(`create schema if not exists ${schema}`);
	const exec = (runner: Pick<Sql, 'unsafe'>): DbExecutor => ({
		async query<T extends DbRow>(text: string, params: readonly unknown[] = []) {
			// The driver's parameter type only lists what it can serialise; our callers pass
			// strings, numbers, booleans, Dates and null, all of which it handles.
			const rows = await runner.unsafe(text, params as never[]);
			return [...rows] as unknown as T[];
		}
	});
	return {
		engine: 'postgres',
		exclusive: false,
		...exec(sql),
		transaction: async (fn) => (await sql.begin((tx) => fn(exec(tx)))) as Awaited<ReturnType<typeof fn>>,
		close: () => sql.end({ timeout: 5 })
	};
}
