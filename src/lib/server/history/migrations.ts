/**
 * Versioned schema migrations. Append a new entry for every change; never edit one that has
 * shipped (a database that already applied it would silently differ from a fresh one).
 * Each migration is a list of single statements: PGlite's extended protocol runs one
 * statement per query.
 */
import type { Db } from './db';

export interface Migration {
	version: number;
	name: string;
	statements: readonly string[];
}

/** Any constant works; this one spells "HAVEN" in ASCII so it is recognisable in pg_locks. */
const MIGRATION_LOCK_KEY = 0x484156454e;

export const MIGRATIONS: readonly Migration[] = [
	{
		version: 1,
		name: 'audit log, instances, collector leases, pool events, incidents, tolerance samples',
		statements: [
			`create table haven_instances (
				id text primary key,
				hostname text not null,
				boot_id text not null,
				pid integer not null,
				started_at timestamptz not null default now(),
				heartbeat_at timestamptz not null default now(),
				stopped_at timestamptz
			)`,
			`create table audit_log (
				id bigint generated always as identity primary key,
				instance_id text not null,
				started_at timestamptz not null default now(),
				finished_at timestamptz,
				user_name text not null,
				user_role text not null,
				pool_id text not null,
				action text not null,
				request jsonb not null,
				outcome text not null default 'pending'
					check (outcome in ('pending', 'success', 'failure', 'interrupted')),
				response jsonb,
				error jsonb
			)`,
			`create index audit_log_started_at on audit_log (started_at desc, id desc)`,
			`create index audit_log_pending on audit_log (instance_id) where outcome = 'pending'`,
			`create table collector_leases (
				pool_id text primary key,
				owner text not null,
				acquired_at timestamptz not null,
				expires_at timestamptz not null
			)`,
			`create table incidents (
				id bigint generated always as identity primary key,
				pool_id text not null,
				host_ref text not null,
				host_uuid text,
				host_name text,
				started_at timestamptz not null,
				declared_dead_at timestamptz,
				last_activity_at timestamptz not null,
				closed_at timestamptz
			)`,
			`create index incidents_pool_started on incidents (pool_id, started_at desc)`,
			`create table pool_events (
				id bigint generated always as identity primary key,
				pool_id text not null,
				at timestamptz not null,
				recorded_at timestamptz not null default now(),
				kind text not null,
				object_class text,
				object_ref text,
				object_uuid text,
				object_name text,
				message_uuid text,
				detail jsonb not null default '{}'::jsonb,
				incident_id bigint references incidents (id)
			)`,
			`create unique index pool_events_message on pool_events (pool_id, message_uuid) where message_uuid is not null`,
			`create index pool_events_pool_at on pool_events (pool_id, at, id)`,
			`create index pool_events_incident on pool_events (incident_id, at, id) where incident_id is not null`,
			`create table tolerance_samples (
				id bigint generated always as identity primary key,
				pool_id text not null,
				at timestamptz not null,
				ha_enabled boolean not null,
				host_failures_to_tolerate integer not null,
				plan_exists_for integer not null,
				overcommitted boolean not null,
				memory_free_bytes double precision not null,
				memory_total_bytes double precision not null,
				live_hosts integer not null,
				hosts integer not null
			)`,
			`create index tolerance_samples_pool_at on tolerance_samples (pool_id, at)`,
			`create table observed_state (
				pool_id text not null,
				object_class text not null,
				object_ref text not null,
				state jsonb not null,
				primary key (pool_id, object_class, object_ref)
			)`
		]
	},
	{
		version: 2,
		name: 'incidents remember the HA timeout in force when they began',
		statements: ['alter table incidents add column ha_timeout_s integer']
	},
	{
		version: 3,
		name: 'incidents list the VMs left running on a dead host (nothing restarts them without HA)',
		statements: [`alter table incidents add column stranded_vms jsonb not null default '[]'::jsonb`]
	}
];

export interface MigrateResult {
	/** Versions applied by this call, in order (empty when the schema was already current). */
	applied: number[];
	version: number;
}

/**
 * Brings the schema up to date in one transaction, under an advisory lock so two instances
 * starting together apply each migration once: the second waits, then finds nothing to do.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
	const versions = migrations.map((m) => m.version);
	versions.forEach((v, i) => {
		if (!Number.isInteger(v) || v !== i + 1) throw new Error(`migration versions must be 1, 2, 3, ... in order; found ${versions.join(', ')}`);
	});
	return db.transaction(async (tx) => {
		await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
		await tx.query(`create table if not exists schema_migrations (
			version integer primary key,
			name text not null,
			applied_at timestamptz not null default now()
		)`);
		const rows = await tx.query<{ version: number }>('select version from schema_migrations order by version');
		const done = new Set(rows.map((r) => r.version));
		const newest = Math.max(0, ...done);
		if (newest > migrations.length) {
			throw new Error(`the history database is at schema version ${newest}, newer than this Haven knows (${migrations.length}); upgrade Haven`);
		}
		const applied: number[] = [];
		for (const migration of migrations) {
			if (done.has(migration.version)) continue;
			for (const statement of migration.statements) await tx.query(statement);
			await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [migration.version, migration.name]);
			applied.push(migration.version);
		}
		return { applied, version: migrations.length };
	});
}
