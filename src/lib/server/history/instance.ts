/**
 * A running Haven process as other instances see it: a row in `haven_instances` with a
 * heartbeat. Rows that a process left half-done (audit entries still `pending`) are closed as
 * `interrupted` once their owner is known to be gone: stopped cleanly, silent for longer than
 * `staleAfterMs`, or (same machine, same boot) its pid no longer exists. With PGlite only one
 * process can open the data folder, so every other instance is gone by construction.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Db } from './db';

export interface InstanceOptions {
	db: Db;
	id?: string;
	/** How often the heartbeat row is refreshed (and dead peers swept). */
	heartbeatMs?: number;
	/** A peer silent for this long is considered gone. Must exceed heartbeatMs comfortably. */
	staleAfterMs?: number;
	onError?: (error: unknown) => void;
}

export interface HavenInstance {
	readonly id: string;
	readonly db: Db;
	/** Closes the pending rows of instances that are gone; returns how many rows were closed. */
	sweep(): Promise<number>;
	stop(): Promise<void>;
}

function bootId(): string {
	try {
		return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
	} catch {
		return 'unknown';
	}
}

function pidAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (e) {
		// EPERM: it exists but belongs to someone else.
		return (e as NodeJS.ErrnoException).code === 'EPERM';
	}
}

interface InstanceRow extends Record<string, unknown> {
	id: string;
	hostname: string;
	boot_id: string;
	pid: number;
	stopped: boolean;
	stale: boolean;
}

/** Registers this process, closes what dead instances left pending, and starts the heartbeat. */
export async function startInstance(options: InstanceOptions): Promise<HavenInstance> {
	const { db } = options;
	const id = options.id ?? randomUUID();
	const heartbeatMs = options.heartbeatMs ?? 10_000;
	const staleAfterMs = options.staleAfterMs ?? Math.max(45_000, heartbeatMs * 3);
	const me = { hostname: hostname(), bootId: bootId(), pid: process.pid };
	await db.query(
		`insert into haven_instances (id, hostname, boot_id, pid) values ($1, $2, $3, $4)
		 on conflict (id) do update set heartbeat_at = now(), stopped_at = null, pid = excluded.pid`,
		[id, me.hostname, me.bootId, me.pid]
	);

	const sweep = async (): Promise<number> => {
		// Owners of pending rows, known or not (a row whose instance row vanished is orphaned).
		const owners = await db.query<InstanceRow>(
			`select p.instance_id as id, i.hostname, i.boot_id, i.pid,
			        coalesce(i.stopped_at is not null, true) as stopped,
			        coalesce(i.heartbeat_at < now() - ($2::double precision * interval '1 millisecond'), true) as stale
			   from (select distinct instance_id from audit_log where outcome = 'pending' and instance_id <> $1) p
			   left join haven_instances i on i.id = p.instance_id`,
			[id, staleAfterMs]
		);
		const gone = owners
			.filter(
				(o) =>
					db.exclusive ||
					o.stopped ||
					o.stale ||
					(o.hostname === me.hostname && o.boot_id === me.bootId && o.boot_id !== 'unknown' && !pidAlive(o.pid))
			)
			.map((o) => o.id);
		if (gone.length === 0) return 0;
		const closed = await db.query(
			`update audit_log
			    set outcome = 'interrupted', finished_at = now(),
			        error = jsonb_build_object('code', 'INTERRUPTED',
			                'message', 'Haven stopped before the pool answered; check the pool for the outcome')
			  where outcome = 'pending' and instance_id in (select jsonb_array_elements_text($1::jsonb))
			  returning id`,
			[JSON.stringify(gone)]
		);
		return closed.length;
	};

	await sweep();

	const report = options.onError ?? (() => {});
	let stopped = false;
	const timer = setInterval(() => {
		void (async () => {
			await db.query('update haven_instances set heartbeat_at = now() where id = $1', [id]);
			await sweep();
		})().catch((e: unknown) => {
			if (!stopped) report(e);
		});
	}, heartbeatMs);
	timer.unref();

	return {
		id,
		db,
		sweep,
		async stop() {
			if (stopped) return;
			stopped = true;
			clearInterval(timer);
			await db.query('update haven_instances set stopped_at = now() where id = $1', [id]);
		}
	};
}
