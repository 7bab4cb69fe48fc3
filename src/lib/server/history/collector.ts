/**
 * One collector per configured pool, running in the server whether or not a browser is open.
 * With several Haven instances on one PostgreSQL, a lease makes exactly one of them collect a
 * given pool; the others wait and take over when the lease expires (the holder died) or is
 * released (it stopped cleanly). Every write re-checks the lease inside its transaction, so a
 * collector that lost its lease (a long pause, a partition) cannot write next to its successor.
 *
 * It follows the pool through the XAPI event watcher (full state, then changes; resync after
 * any gap, e.g. a master failover) and records what changed: HA messages, hosts declared dead
 * or back, VM halts and restarts (when, where), master changes, HA settings, and tolerance
 * samples (on change and every `sampleIntervalMs`). What it last saw is kept in the database,
 * so changes that happened while nobody collected are still recorded after a restart.
 */
import { randomUUID } from 'node:crypto';
import type { XapiClient } from '../../xapi/client';
import { watchEvents, type WatchUpdate } from '../../xapi/events';
import type { Ref, Snapshot, XapiClassName } from '../../xapi/records';
import type { Db, DbExecutor } from './db';
import { acquireLease, holdsLease, releaseLease } from './lease';
import { diffViews, emptyView, headroom, isHaMessage, messageFacts, viewOf, type Fact, type HostView, type View } from './observe';
import { recordFacts } from './record';

export const COLLECTED_CLASSES: readonly XapiClassName[] = ['pool', 'host', 'host_metrics', 'VM', 'VM_metrics', 'message'];

export interface CollectorOptions {
	db: Db;
	poolId: string;
	/** A logged-in client; give it a credentials provider so it can re-login and fail over. */
	connect: () => Promise<XapiClient>;
	/** This instance's name in the lease table (default: a random id). */
	owner?: string;
	leaseTtlMs?: number;
	/** How often the lease is renewed (leader) or tried (follower). Default leaseTtlMs / 3. */
	leaseRenewMs?: number;
	/** Wall-clock tolerance samples are taken at least this often while leading. */
	sampleIntervalMs?: number;
	/** An incident still open this long after it began is closed (a VM never came back). */
	incidentWindowMs?: number;
	/** Epoch ms for observations the pool gives no timestamp for. Tests pass the sim's clock. */
	clock?: () => number;
	/** Seconds one event.from call waits. */
	eventTimeoutS?: number;
	onError?: (error: unknown) => void;
	/** Told when this instance starts or stops collecting the pool. */
	onLeadership?: (leading: boolean) => void;
}

export interface Collector {
	readonly owner: string;
	readonly poolId: string;
	readonly leading: boolean;
	/** Resolves after the next batch of changes has been written (for tests and tooling). */
	flushed(): Promise<void>;
	stop(): Promise<void>;
}

class LeaseLost extends Error {
	constructor(poolId: string) {
		super(`lost the collector lease for pool ${poolId}`);
		this.name = 'LeaseLost';
	}
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		if (signal.aborted) return resolve();
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		}
		signal.addEventListener('abort', done, { once: true });
	});
}

interface StoredObject extends Record<string, unknown> {
	object_class: string;
	object_ref: string;
	state: unknown;
}

async function loadView(db: DbExecutor, poolId: string): Promise<View | null> {
	const rows = await db.query<StoredObject>('select object_class, object_ref, state from observed_state where pool_id = $1', [poolId]);
	if (rows.length === 0) return null;
	const view = emptyView();
	for (const row of rows) {
		if (row.object_class === 'pool') view.pool = row.state as View['pool'];
		else if (row.object_class === 'host') view.hosts[row.object_ref] = { liveChangedAt: null, memoryFree: 0, memoryTotal: 0, ...(row.state as Pick<HostView, 'uuid' | 'name' | 'live'>) };
		else if (row.object_class === 'VM') view.vms[row.object_ref] = row.state as View['vms'][string];
	}
	return view;
}

/**
 * What is worth keeping of a host between runs: liveness, not memory or metrics timestamps,
 * which a real pool refreshes every few seconds and would turn into a write each time.
 */
function lasting(hosts: View['hosts']): Record<Ref, Pick<HostView, 'uuid' | 'name' | 'live'>> {
	return Object.fromEntries(Object.entries(hosts).map(([ref, h]) => [ref, { uuid: h.uuid, name: h.name, live: h.live }]));
}

/** Persists the parts of `after` that differ from `before`. */
async function saveView(tx: DbExecutor, poolId: string, before: View | null, after: View): Promise<void> {
	const upserts: [string, string, unknown][] = [];
	const deletes: [string, string][] = [];
	const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
	if (after.pool && !same(before?.pool, after.pool)) upserts.push(['pool', 'pool', after.pool]);
	for (const [cls, key] of [['host', 'hosts'], ['VM', 'vms']] as const) {
		const old: Record<Ref, unknown> = key === 'hosts' ? lasting(before?.hosts ?? {}) : (before?.[key] ?? {});
		const now: Record<Ref, unknown> = key === 'hosts' ? lasting(after.hosts) : after[key];
		for (const [ref, state] of Object.entries(now)) if (!same(old[ref], state)) upserts.push([cls, ref, state]);
		for (const ref of Object.keys(old)) if (!(ref in now)) deletes.push([cls, ref]);
	}
	if (upserts.length > 0) {
		await tx.query(
			`insert into observed_state (pool_id, object_class, object_ref, state)
			 select $1, x->>0, x->>1, x->2 from jsonb_array_elements($2::jsonb) as x
			 on conflict (pool_id, object_class, object_ref) do update set state = excluded.state`,
			[poolId, JSON.stringify(upserts)]
		);
	}
	if (deletes.length > 0) {
		await tx.query(
			`delete from observed_state where pool_id = $1 and (object_class, object_ref) in
			   (select x->>0, x->>1 from jsonb_array_elements($2::jsonb) as x)`,
			[poolId, JSON.stringify(deletes)]
		);
	}
}

/** What makes a sample due at once; memory alone waits for the periodic sample (it moves all the time). */
function toleranceKey(view: View): string {
	const p = view.pool;
	const h = headroom(view);
	return JSON.stringify([p?.haEnabled, p?.hostFailuresToTolerate, p?.planExistsFor, p?.overcommitted, h.liveHosts, h.hosts]);
}

async function writeSample(tx: DbExecutor, poolId: string, view: View, at: number): Promise<void> {
	if (!view.pool) return;
	const h = headroom(view);
	await tx.query(
		`insert into tolerance_samples (pool_id, at, ha_enabled, host_failures_to_tolerate, plan_exists_for, overcommitted,
		                                memory_free_bytes, memory_total_bytes, live_hosts, hosts)
		 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		[poolId, new Date(at), view.pool.haEnabled, view.pool.hostFailuresToTolerate, view.pool.planExistsFor, view.pool.overcommitted, h.memoryFree, h.memoryTotal, h.liveHosts, h.hosts]
	);
}

/** Applies event.from changes to the cached records. */
function applyEvents(records: Partial<Snapshot>, update: Extract<WatchUpdate, { kind: 'events' }>): void {
	for (const event of update.events) {
		const table = ((records as Record<string, Record<Ref, unknown>>)[event.class] ??= {});
		if (event.operation === 'del') delete table[event.ref];
		else if (event.snapshot !== undefined) table[event.ref] = event.snapshot;
	}
}

/**
 * A master change is only noticed once the client has found the new master, which can be long
 * after the fact; the pool's own POOL_MASTER_TRANSITION message says when it happened.
 */
function timeMasterChanges(facts: Fact[], view: View): void {
	for (const fact of facts) {
		if (fact.kind !== 'master_changed' || !fact.ref) continue;
		const uuid = view.hosts[fact.ref]?.uuid;
		const message = facts.find((m) => m.kind === 'ha_message' && (m.name === 'POOL_MASTER_TRANSITION' || m.name === 'MASTER_CHANGED') && m.uuid === uuid);
		if (message && message.at < fact.at) fact.at = message.at;
	}
}

export function startCollector(options: CollectorOptions): Collector {
	const { db, poolId, connect } = options;
	const owner = options.owner ?? `collector-${randomUUID()}`;
	const leaseTtlMs = options.leaseTtlMs ?? 30_000;
	const renewMs = options.leaseRenewMs ?? Math.max(100, Math.floor(leaseTtlMs / 3));
	const sampleIntervalMs = options.sampleIntervalMs ?? 5 * 60_000;
	const windowMs = options.incidentWindowMs ?? 60 * 60_000;
	const clock = options.clock ?? Date.now;
	const report = options.onError ?? (() => {});
	const stopping = new AbortController();
	let leading = false;
	let flushWaiters: (() => void)[] = [];

	const setLeading = (value: boolean) => {
		if (leading === value) return;
		leading = value;
		options.onLeadership?.(value);
	};

	/** One term as leader: from taking the lease until it is lost, the watcher dies or stop(). */
	const lead = async (): Promise<void> => {
		const term = new AbortController();
		const abortTerm = () => term.abort();
		stopping.signal.addEventListener('abort', abortTerm, { once: true });
		let lost = false;
		const renew = setInterval(() => {
			acquireLease(db, poolId, owner, leaseTtlMs)
				.then((held) => {
					if (!held) {
						lost = true;
						term.abort();
					}
				})
				.catch((e: unknown) => {
					// Cannot reach the database: keep going; writes re-check the lease anyway.
					report(e);
				});
		}, renewMs);
		let client: XapiClient | undefined;
		try {
			let stored = await loadView(db, poolId);
			let current: View | null = stored;
			const records: Partial<Snapshot> = {};
			const seenMessages = new Set<Ref>();
			let lastSampleKey = '';
			let lastSampleAt = 0;

			const handle = async (update: WatchUpdate) => {
				const now = clock();
				if (update.kind === 'state') {
					for (const cls of COLLECTED_CLASSES) (records as Record<string, unknown>)[cls] = update.records[cls] ?? {};
				} else {
					applyEvents(records, update);
				}
				const fresh: Record<Ref, NonNullable<Snapshot['message'][string]>> = {};
				for (const [ref, message] of Object.entries(records.message ?? {})) {
					if (seenMessages.has(ref)) continue;
					seenMessages.add(ref);
					if (isHaMessage(message.name)) fresh[ref] = message;
				}
				// Messages are only read once: drop them from the cache to keep it small.
				records.message = {};
				const after = viewOf(records);
				const facts = [...messageFacts(fresh, now), ...(current ? diffViews(current, after, now) : [])];
				timeMasterChanges(facts, after);
				const key = toleranceKey(after);
				const sample = key !== lastSampleKey || now - lastSampleAt >= sampleIntervalMs;
				const before = stored;
				await db.transaction(async (tx) => {
					if (!(await holdsLease(tx, poolId, owner))) throw new LeaseLost(poolId);
					if (facts.length > 0) await recordFacts(tx, facts, { poolId, view: after, now, windowMs });
					await saveView(tx, poolId, before, after);
					if (sample) await writeSample(tx, poolId, after, now);
				});
				stored = after;
				current = after;
				if (sample) {
					lastSampleKey = key;
					lastSampleAt = now;
				}
				const waiters = flushWaiters;
				flushWaiters = [];
				for (const w of waiters) w();
			};

			// stop() must not wait for a pool that does not answer: give up on the login, and log
			// out of the session should it still arrive.
			const connecting = connect();
			const aborted = new Promise<undefined>((resolve) => {
				if (term.signal.aborted) resolve(undefined);
				term.signal.addEventListener('abort', () => resolve(undefined), { once: true });
			});
			client = await Promise.race([connecting, aborted]);
			if (!client || term.signal.aborted) {
				connecting.then((late) => late.logout()).catch(() => undefined);
				return;
			}
			// A quiet pool sends no events: keep the trend going from what we last saw. No XAPI
			// call needed, and the lease is checked as for any write.
			const sampler = setInterval(() => {
				const view = current;
				const now = clock();
				if (!view || now - lastSampleAt < sampleIntervalMs) return;
				lastSampleAt = now;
				db.transaction(async (tx) => {
					if (!(await holdsLease(tx, poolId, owner))) throw new LeaseLost(poolId);
					await writeSample(tx, poolId, view, now);
				}).catch((e: unknown) => {
					if (e instanceof LeaseLost) term.abort();
					else report(e);
				});
			}, Math.max(100, Math.floor(sampleIntervalMs / 4)));
			try {
				await watchEvents(client, COLLECTED_CLASSES, handle, {
					signal: term.signal,
					timeoutS: options.eventTimeoutS ?? 30,
					onError: (e) => report(e)
				});
			} finally {
				clearInterval(sampler);
			}
		} catch (e) {
			if (!(e instanceof LeaseLost) && !term.signal.aborted) throw e;
		} finally {
			clearInterval(renew);
			stopping.signal.removeEventListener('abort', abortTerm);
			setLeading(false);
			if (client) await client.logout().catch(() => undefined);
			if (lost) report(new LeaseLost(poolId));
		}
	};

	const loop = (async () => {
		let failures = 0;
		while (!stopping.signal.aborted) {
			let held = false;
			try {
				held = await acquireLease(db, poolId, owner, leaseTtlMs);
			} catch (e) {
				report(e);
			}
			if (!held) {
				await sleep(renewMs, stopping.signal);
				continue;
			}
			setLeading(true);
			try {
				await lead();
				failures = 0;
			} catch (e) {
				report(e);
				failures++;
				// Give the lease up so a healthier instance can try, then back off.
				await releaseLease(db, poolId, owner).catch(report);
				await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), stopping.signal);
			}
		}
	})();

	return {
		owner,
		poolId,
		get leading() {
			return leading;
		},
		flushed: () => new Promise<void>((resolve) => flushWaiters.push(resolve)),
		async stop() {
			stopping.abort();
			await loop;
			await releaseLease(db, poolId, owner).catch(report);
			const waiters = flushWaiters;
			flushWaiters = [];
			for (const w of waiters) w();
		}
	};
}
