/**
 * What the history pages read: incidents with their timelines, the pool's event log and the
 * tolerance trend. Read-only, so helpdesk users may call all of it.
 */
import * as v from 'valibot';
import type { Db } from './db';
import { haRestarts } from './record';
import { dateInput, parseInput, shortText } from './validate';

export interface IncidentSummary {
	id: number;
	poolId: string;
	host: { ref: string; uuid: string | null; name: string | null };
	startedAt: Date;
	declaredDeadAt: Date | null;
	closedAt: Date | null;
	status: 'open' | 'closed';
	vmsHalted: number;
	vmsRestarted: number;
	vmsNotRestarted: number;
	/** Of those, VMs XAPI still shows running on the dead host (no HA acted on them). */
	vmsStranded: number;
}

export type TimelineKind =
	| 'host_lost'
	| 'host_declared_dead'
	| 'host_fenced'
	| 'host_back'
	| 'vms_halted'
	| 'restart_group'
	| 'restart_failed'
	| 'master_changed'
	| 'tolerance_alert'
	| 'other';

export interface TimelineVm {
	ref: string;
	uuid: string | null;
	name: string | null;
	priority: string;
	order: number;
	haltedAt: Date | null;
	/** Null when it has not come back. */
	startedAt: Date | null;
	startedOn: { ref: string; name: string | null } | null;
	/** Halted → started, in ms. */
	downtimeMs: number | null;
	/** The halt was inferred from a restart on another host (the pool did both between two looks). */
	haltInferred: boolean;
}

export interface TimelineEntry {
	kind: TimelineKind;
	at: Date;
	/** Milliseconds since the host was declared dead (negative before). */
	sinceDeclaredMs: number | null;
	title: string;
	/** True for the host-lost time, which is derived from the HA timeout, not observed. */
	estimated?: boolean;
	vms?: TimelineVm[];
	detail?: Record<string, unknown>;
}

export interface RestartGroup {
	/** 'restart' groups by ascending order, then 'best-effort'. */
	priority: string;
	order: number;
	vms: TimelineVm[];
	firstStartedAt: Date | null;
	lastStartedAt: Date | null;
	/** Declared dead → last VM of the group running. */
	durationMs: number | null;
}

export interface IncidentDetail extends IncidentSummary {
	/** Declared dead minus the HA timeout: when the host last heartbeated, approximately. */
	hostLostAt: Date | null;
	haTimeoutS: number | null;
	entries: TimelineEntry[];
	groups: RestartGroup[];
	/** Halted VMs that are not running again, with why when known. */
	notRestarted: (TimelineVm & { reason: string })[];
	/** Declared dead → last restart. */
	recoveryMs: number | null;
}

interface IncidentRow extends Record<string, unknown> {
	id: number;
	pool_id: string;
	host_ref: string;
	host_uuid: string | null;
	host_name: string | null;
	started_at: Date;
	declared_dead_at: Date | null;
	closed_at: Date | null;
	ha_timeout_s: number | null;
	stranded_vms: { ref: string; uuid: string; name: string; priority: string; order: number }[];
	stranded: number;
	halted: number;
	restarted: number;
}

interface EventRow extends Record<string, unknown> {
	id: number;
	at: Date;
	kind: string;
	object_class: string | null;
	object_ref: string | null;
	object_uuid: string | null;
	object_name: string | null;
	message_uuid: string | null;
	detail: Record<string, unknown>;
	incident_id: number | null;
}

const poolIdSchema = shortText();
const idSchema = v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(1, 'must be positive'));

const summaryFromRow = (r: IncidentRow): IncidentSummary => ({
	id: r.id,
	poolId: r.pool_id,
	host: { ref: r.host_ref, uuid: r.host_uuid, name: r.host_name },
	startedAt: r.started_at,
	declaredDeadAt: r.declared_dead_at,
	closedAt: r.closed_at,
	status: r.closed_at ? 'closed' : 'open',
	vmsHalted: r.halted,
	vmsRestarted: r.restarted,
	vmsNotRestarted: Math.max(0, r.halted - r.restarted) + r.stranded,
	vmsStranded: r.stranded
});

const INCIDENT_SELECT = `
	select i.*,
	       (select count(distinct e.object_ref) from pool_events e where e.incident_id = i.id and e.kind = 'vm_halted')::int as halted,
	       (select count(distinct e.object_ref) from pool_events e where e.incident_id = i.id and e.kind = 'vm_started')::int as restarted,
	       (select count(*) from jsonb_array_elements(i.stranded_vms) s
	         where not exists (select 1 from pool_events e where e.incident_id = i.id and e.kind = 'vm_halted' and e.object_ref = s->>'ref'))::int as stranded
	  from incidents i`;

/** A pool's incidents, newest first. */
export async function listIncidents(db: Db, poolId: string, opts: { limit?: number } = {}): Promise<IncidentSummary[]> {
	const pool = parseInput(poolIdSchema, poolId, 'pool id');
	const limit = parseInput(v.optional(v.pipe(idSchema, v.maxValue(1000, 'must be at most 1000')), 100), opts.limit, 'limit');
	const rows = await db.query<IncidentRow>(`${INCIDENT_SELECT} where i.pool_id = $1 order by i.started_at desc, i.id desc limit $2`, [pool, limit]);
	return rows.map(summaryFromRow);
}

function messageTitle(name: string, objectName: string | null): { kind: TimelineKind; title: string } {
	switch (name) {
		case 'HA_HOST_FAILED':
			return { kind: 'host_declared_dead', title: 'HA declared the host dead (HA_HOST_FAILED)' };
		case 'HA_HOST_WAS_FENCED':
			return { kind: 'host_fenced', title: 'The host was fenced by HA and rejoined (HA_HOST_WAS_FENCED)' };
		case 'HA_PROTECTED_VM_RESTART_FAILED':
			return { kind: 'restart_failed', title: `HA could not restart ${objectName ?? 'a protected VM'}` };
		case 'POOL_MASTER_TRANSITION':
		case 'MASTER_CHANGED':
			return { kind: 'master_changed', title: 'A new pool master took over' };
		case 'HA_POOL_OVERCOMMITTED':
			return { kind: 'tolerance_alert', title: 'The pool is overcommitted: the configured failures can no longer be tolerated' };
		case 'HA_POOL_DROP_IN_PLAN_EXISTS_FOR':
			return { kind: 'tolerance_alert', title: 'The number of host failures the plan covers dropped' };
		default:
			return { kind: 'other', title: name };
	}
}

/** One incident as a timeline, or undefined when there is no such incident. */
export async function getIncident(db: Db, id: number): Promise<IncidentDetail | undefined> {
	const incidentId = parseInput(idSchema, id, 'incident id');
	const row = (await db.query<IncidentRow>(`${INCIDENT_SELECT} where i.id = $1`, [incidentId]))[0];
	if (!row) return undefined;
	const summary = summaryFromRow(row);
	const events = await db.query<EventRow>('select * from pool_events where incident_id = $1 order by at, id', [incidentId]);
	const haTimeoutS = row.ha_timeout_s;
	const declared = row.declared_dead_at;
	const since = (at: Date) => (declared ? at.getTime() - declared.getTime() : null);

	const vms = new Map<string, TimelineVm>();
	const restartFailures = new Map<string, string>();
	const entries: TimelineEntry[] = [];
	for (const e of events) {
		const ref = e.object_ref ?? '';
		if (e.kind === 'vm_halted') {
			vms.set(ref, {
				ref,
				uuid: e.object_uuid,
				name: e.object_name,
				priority: String(e.detail['priority'] ?? ''),
				order: Number(e.detail['order'] ?? 0),
				haltedAt: e.at,
				startedAt: null,
				startedOn: null,
				downtimeMs: null,
				haltInferred: e.detail['inferred'] === true
			});
		} else if (e.kind === 'vm_started') {
			const vm = vms.get(ref);
			if (!vm) continue;
			vm.startedAt = e.at;
			vm.startedOn = { ref: String(e.detail['on'] ?? ''), name: typeof e.detail['onName'] === 'string' ? e.detail['onName'] : null };
			vm.downtimeMs = vm.haltedAt ? e.at.getTime() - vm.haltedAt.getTime() : null;
		} else if (e.kind === 'host_dead') {
			entries.push({ kind: 'host_declared_dead', at: e.at, sinceDeclaredMs: since(e.at), title: `${e.object_name ?? 'The host'} is no longer live`, detail: { source: 'host_metrics' } });
		} else if (e.kind === 'host_back') {
			entries.push({ kind: 'host_back', at: e.at, sinceDeclaredMs: since(e.at), title: `${e.object_name ?? 'The host'} is live again` });
		} else if (e.kind === 'master_changed') {
			entries.push({ kind: 'master_changed', at: e.at, sinceDeclaredMs: since(e.at), title: `Pool master changed from ${String(e.detail['fromName'] ?? '?')} to ${String(e.detail['toName'] ?? '?')}`, detail: e.detail });
		} else if (e.kind === 'ha_message') {
			const name = String(e.detail['name'] ?? e.object_name ?? '');
			if (name === 'HA_PROTECTED_VM_RESTART_FAILED') {
				const vm = [...vms.values()].find((x) => x.uuid === e.object_uuid);
				// xapi's message often has an empty body: the name says it all.
				const body = typeof e.detail['body'] === 'string' ? e.detail['body'].trim() : '';
				if (vm) restartFailures.set(vm.ref, body || `HA tried to restart it and failed (HA_PROTECTED_VM_RESTART_FAILED, last at ${e.at.toISOString()})`);
			}
			const vmName = [...vms.values()].find((x) => x.uuid === e.object_uuid)?.name ?? null;
			const { kind, title } = messageTitle(name, vmName);
			entries.push({ kind, at: e.at, sinceDeclaredMs: since(e.at), title, detail: { message: name, body: e.detail['body'] } });
		} else if (e.kind === 'ha_config') {
			entries.push({ kind: 'tolerance_alert', at: e.at, sinceDeclaredMs: since(e.at), title: 'HA tolerance changed', detail: e.detail });
		}
	}

	// With HA, HA_HOST_FAILED and host_metrics.live turning false say the same thing: keep
	// the message, which names the cause, at the earlier of the two times.
	const fromMessage = entries.find((e) => e.kind === 'host_declared_dead' && e.detail?.['message'] === 'HA_HOST_FAILED');
	if (fromMessage) {
		for (let i = entries.length - 1; i >= 0; i--) {
			const entry = entries[i];
			if (entry?.kind !== 'host_declared_dead' || entry.detail?.['source'] !== 'host_metrics') continue;
			if (entry.at < fromMessage.at) {
				fromMessage.at = entry.at;
				fromMessage.sinceDeclaredMs = entry.sinceDeclaredMs;
			}
			entries.splice(i, 1);
		}
	}
	const halted = [...vms.values()];
	if (halted.length > 0) {
		const first = halted.reduce<Date | null>((min, vm) => (vm.haltedAt && (!min || vm.haltedAt < min) ? vm.haltedAt : min), null);
		if (first) entries.push({ kind: 'vms_halted', at: first, sinceDeclaredMs: since(first), title: `${halted.length} VM${halted.length === 1 ? '' : 's'} halted with the host`, vms: halted });
	}

	// Restart groups by ascending order, best-effort after them all.
	const groupKey = (vm: TimelineVm) => (vm.priority === 'best-effort' ? 'z' : `r${String(vm.order).padStart(12, '0')}`);
	const byGroup = new Map<string, TimelineVm[]>();
	for (const vm of halted.filter((x) => haRestarts(x.priority) || x.startedAt)) byGroup.set(groupKey(vm), [...(byGroup.get(groupKey(vm)) ?? []), vm]);
	const groups: RestartGroup[] = [...byGroup.entries()]
		.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
		.map(([, list]) => {
			const started = list.flatMap((vm) => (vm.startedAt ? [vm.startedAt.getTime()] : []));
			const last = started.length ? new Date(Math.max(...started)) : null;
			return {
				priority: list[0]?.priority === 'best-effort' ? 'best-effort' : 'restart',
				order: list[0]?.order ?? 0,
				vms: list,
				firstStartedAt: started.length ? new Date(Math.min(...started)) : null,
				lastStartedAt: last,
				durationMs: last && declared ? last.getTime() - declared.getTime() : null
			};
		});
	for (const g of groups) {
		if (!g.firstStartedAt) continue;
		const label = g.priority === 'best-effort' ? 'best-effort VMs' : `restart group (order ${g.order})`;
		entries.push({
			kind: 'restart_group',
			at: g.firstStartedAt,
			sinceDeclaredMs: since(g.firstStartedAt),
			title: `Restarted ${g.vms.filter((vm) => vm.startedAt).length} of ${g.vms.length} in ${label}`,
			vms: g.vms,
			detail: { priority: g.priority, order: g.order, durationMs: g.durationMs }
		});
	}
	if (declared && haTimeoutS !== null) {
		entries.push({
			kind: 'host_lost',
			at: new Date(declared.getTime() - haTimeoutS * 1000),
			sinceDeclaredMs: -haTimeoutS * 1000,
			title: `${row.host_name ?? 'The host'} stopped heartbeating (about ${haTimeoutS} s before it was declared dead)`,
			estimated: true
		});
	}
	const order: Record<TimelineKind, number> = { host_lost: 0, host_declared_dead: 1, vms_halted: 2, master_changed: 3, restart_group: 4, restart_failed: 5, tolerance_alert: 6, host_fenced: 7, host_back: 8, other: 9 };
	entries.sort((a, b) => a.at.getTime() - b.at.getTime() || order[a.kind] - order[b.kind]);

	const notRestarted = halted
		.filter((vm) => !vm.startedAt)
		.map((vm) => ({
			...vm,
			reason:
				restartFailures.get(vm.ref) ??
				(haRestarts(vm.priority) ? (summary.status === 'open' ? 'waiting for HA to restart it' : 'HA did not restart it') : 'not protected by HA (restart priority not set)')
		}));
	// Without HA nothing halts or restarts a dead host's VMs: XAPI keeps showing them running.
	const stranded = row.stranded_vms.filter((vm) => !vms.has(vm.ref));
	if (stranded.length > 0 && declared) {
		const down = stranded.map((vm) => ({
			ref: vm.ref,
			uuid: vm.uuid,
			name: vm.name,
			priority: vm.priority,
			order: vm.order,
			haltedAt: declared,
			startedAt: null,
			startedOn: null,
			downtimeMs: null,
			haltInferred: true
		}));
		entries.push({
			kind: 'vms_halted',
			at: declared,
			sinceDeclaredMs: 0,
			title: `${down.length} VM${down.length === 1 ? '' : 's'} went down with the host; XAPI still shows ${down.length === 1 ? 'it' : 'them'} running there`,
			vms: down,
			detail: { stranded: true }
		});
		entries.sort((a, b) => a.at.getTime() - b.at.getTime() || order[a.kind] - order[b.kind]);
		for (const vm of down) notRestarted.push({ ...vm, reason: 'left on the dead host: HA did not act (HA off?), so nothing restarts it' });
	}
	const lastStart = Math.max(-Infinity, ...halted.flatMap((vm) => (vm.startedAt ? [vm.startedAt.getTime()] : [])));
	return {
		...summary,
		hostLostAt: declared && haTimeoutS !== null ? new Date(declared.getTime() - haTimeoutS * 1000) : null,
		haTimeoutS,
		entries,
		groups,
		notRestarted,
		recoveryMs: declared && Number.isFinite(lastStart) ? lastStart - declared.getTime() : null
	};
}

export interface PoolEventEntry {
	id: number;
	at: Date;
	kind: string;
	objectClass: string | null;
	objectRef: string | null;
	objectUuid: string | null;
	objectName: string | null;
	detail: Record<string, unknown>;
	incidentId: number | null;
}

const eventFilterSchema = v.object({
	from: v.optional(dateInput),
	to: v.optional(dateInput),
	kinds: v.optional(v.array(shortText(40))),
	limit: v.optional(v.pipe(idSchema, v.maxValue(10_000, 'must be at most 10000')), 500)
});

/** "What happened at 3 a.m.?": a pool's recorded events in a time range, oldest first. */
export async function listPoolEvents(db: Db, poolId: string, filter: v.InferInput<typeof eventFilterSchema> = {}): Promise<PoolEventEntry[]> {
	const pool = parseInput(poolIdSchema, poolId, 'pool id');
	const f = parseInput(eventFilterSchema, filter, 'event filter');
	const rows = await db.query<EventRow>(
		`select * from pool_events where pool_id = $1
		    and ($2::timestamptz is null or at >= $2) and ($3::timestamptz is null or at < $3)
		    and ($4::jsonb is null or kind in (select jsonb_array_elements_text($4::jsonb)))
		  order by at, id limit $5`,
		[pool, f.from ?? null, f.to ?? null, f.kinds ? JSON.stringify(f.kinds) : null, f.limit]
	);
	return rows.map((r) => ({
		id: r.id,
		at: r.at,
		kind: r.kind,
		objectClass: r.object_class,
		objectRef: r.object_ref,
		objectUuid: r.object_uuid,
		objectName: r.object_name,
		detail: r.detail,
		incidentId: r.incident_id
	}));
}

export interface TolerancePoint {
	at: Date;
	haEnabled: boolean;
	hostFailuresToTolerate: number;
	planExistsFor: number;
	overcommitted: boolean;
	memoryFreeBytes: number;
	memoryTotalBytes: number;
	liveHosts: number;
	hosts: number;
}

const trendSchema = v.object({
	from: dateInput,
	to: dateInput,
	/** Aggregate into buckets this wide from `from` on (each labelled by its start, holding its worst values); raw samples without. */
	bucketMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1000, 'must be at least 1000')))
});

/**
 * Tolerance and memory headroom over time. With `bucketMs`, each bucket shows its worst
 * moment (lowest plan coverage and headroom, overcommitted if ever), so a dip never hides.
 * The sample in force at `from` is included, so the chart starts at the left edge.
 */
export async function toleranceTrend(db: Db, poolId: string, range: v.InferInput<typeof trendSchema>): Promise<TolerancePoint[]> {
	const pool = parseInput(poolIdSchema, poolId, 'pool id');
	const r = parseInput(trendSchema, range, 'trend range');
	if (r.to.getTime() <= r.from.getTime()) throw new Error('invalid trend range: to must be after from');
	type Row = { at: Date; ha_enabled: boolean; host_failures_to_tolerate: number; plan_exists_for: number; overcommitted: boolean; memory_free_bytes: number; memory_total_bytes: number; live_hosts: number; hosts: number };
	const base = `(select * from tolerance_samples where pool_id = $1 and at >= $2 and at < $3
	               union all
	               (select * from tolerance_samples where pool_id = $1 and at < $2 order by at desc limit 1)) s`;
	let rows: Row[];
	if (r.bucketMs === undefined) {
		rows = await db.query<Row>(`select * from ${base} order by at, id`, [pool, r.from, r.to]);
	} else {
		rows = await db.query<Row>(
			`select to_timestamp(($4::double precision + floor((greatest(extract(epoch from at) * 1000, $4::double precision) - $4::double precision) / $5) * $5) / 1000.0) as at,
			        bool_or(ha_enabled) as ha_enabled, max(host_failures_to_tolerate) as host_failures_to_tolerate,
			        min(plan_exists_for) as plan_exists_for, bool_or(overcommitted) as overcommitted,
			        min(memory_free_bytes) as memory_free_bytes, max(memory_total_bytes) as memory_total_bytes,
			        min(live_hosts) as live_hosts, max(hosts) as hosts
			   from ${base}
			  group by 1 order by 1`,
			[pool, r.from, r.to, r.from.getTime(), r.bucketMs]
		);
	}
	return rows.map((x) => ({
		at: x.at,
		haEnabled: x.ha_enabled,
		hostFailuresToTolerate: Number(x.host_failures_to_tolerate),
		planExistsFor: Number(x.plan_exists_for),
		overcommitted: x.overcommitted,
		memoryFreeBytes: Number(x.memory_free_bytes),
		memoryTotalBytes: Number(x.memory_total_bytes),
		liveHosts: Number(x.live_hosts),
		hosts: Number(x.hosts)
	}));
}
