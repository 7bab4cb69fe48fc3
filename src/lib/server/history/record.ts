/**
 * Writes facts as pool events and groups host failures into incidents: a host declared dead
 * (HA_HOST_FAILED, or its host_metrics.live turning false) opens one; the VMs halted from that
 * host, their restarts, restart failures, fencing, master changes and tolerance alerts that
 * follow are attached to it. It closes once every halted VM that HA should restart is running
 * again, or `windowMs` after it opened, whichever comes first.
 */
import { HaMessage } from '../../xapi/codes';
import type { Ref } from '../../xapi/records';
import type { DbExecutor } from './db';
import type { Fact, View } from './observe';

export interface RecordOptions {
	poolId: string;
	view: View;
	now: number;
	windowMs: number;
}

interface OpenIncident extends Record<string, unknown> {
	id: number;
	host_ref: string;
	declared_dead_at: Date | null;
	started_at: Date;
}

/** Two reports of a host's death this close together are one failure. */
const SAME_FAILURE_MS = 5 * 60_000;

const POOL_WIDE_MESSAGES = new Set<string>([
	HaMessage.POOL_MASTER_TRANSITION,
	HaMessage.MASTER_CHANGED,
	HaMessage.HA_POOL_OVERCOMMITTED,
	HaMessage.HA_POOL_DROP_IN_PLAN_EXISTS_FOR,
	HaMessage.HA_STATEFILE_LOST
]);

/** Whether HA restarts a VM with this priority (legacy "0".."3" count as restart). */
export function haRestarts(priority: unknown): boolean {
	return priority === 'restart' || priority === 'best-effort' || (typeof priority === 'string' && /^[0-3]$/.test(priority));
}

function failureHost(fact: Fact, view: View): Ref | undefined {
	if (fact.kind === 'host_dead') return fact.ref;
	if (fact.kind === 'ha_message' && (fact.name === HaMessage.HA_HOST_FAILED || fact.name === HaMessage.HA_HOST_WAS_FENCED)) {
		return Object.entries(view.hosts).find(([, h]) => h.uuid === fact.uuid)?.[0];
	}
	return undefined;
}

/** Failures first, so a batch holding both the failure and its VM halts groups them. */
function rank(fact: Fact): number {
	if (fact.kind === 'host_dead' || (fact.kind === 'ha_message' && fact.name === HaMessage.HA_HOST_FAILED)) return 0;
	if (fact.kind === 'vm_halted') return 1;
	return 2;
}

export async function recordFacts(tx: DbExecutor, facts: readonly Fact[], options: RecordOptions): Promise<number> {
	const { poolId, view } = options;
	// Messages come again after every restart or resync: drop the known ones before they can
	// open an incident a second time.
	const messageUuids = facts.flatMap((f) => (f.messageUuid ? [f.messageUuid] : []));
	const known = new Set<string>();
	if (messageUuids.length > 0) {
		const rows = await tx.query<{ message_uuid: string }>(
			`select message_uuid from pool_events where pool_id = $1 and message_uuid in (select jsonb_array_elements_text($2::jsonb))`,
			[poolId, JSON.stringify(messageUuids)]
		);
		for (const r of rows) known.add(r.message_uuid);
	}
	const ordered = facts.filter((f) => !f.messageUuid || !known.has(f.messageUuid)).sort((a, b) => rank(a) - rank(b) || a.at - b.at);
	let written = 0;
	const openFor = async (hostRef: Ref): Promise<OpenIncident | undefined> =>
		(
			await tx.query<OpenIncident>(
				`select id, host_ref, declared_dead_at, started_at from incidents
				  where pool_id = $1 and host_ref = $2 and closed_at is null order by started_at desc limit 1`,
				[poolId, hostRef]
			)
		)[0];
	/** The host's latest incident, closed or not, begun less than `withinMs` before `at`. */
	const recentFor = async (hostRef: Ref, at: number, withinMs: number): Promise<OpenIncident | undefined> =>
		(
			await tx.query<OpenIncident>(
				`select id, host_ref, declared_dead_at, started_at from incidents
				  where pool_id = $1 and host_ref = $2 and started_at > $3 order by started_at desc limit 1`,
				[poolId, hostRef, new Date(at - withinMs)]
			)
		)[0];
	const latestOpen = async (): Promise<OpenIncident | undefined> =>
		(
			await tx.query<OpenIncident>(
				`select id, host_ref, declared_dead_at, started_at from incidents
				  where pool_id = $1 and closed_at is null order by started_at desc limit 1`,
				[poolId]
			)
		)[0];
	const cameBackSince = async (incident: number, before: number): Promise<boolean> =>
		(await tx.query(`select 1 from pool_events where incident_id = $1 and kind = 'host_back' and at <= $2`, [incident, new Date(before)])).length > 0;
	const incidentOfLastHalt = async (vmRef: Ref): Promise<number | undefined> => {
		const rows = await tx.query<{ incident_id: number | null; open: boolean }>(
			`select e.incident_id, (i.closed_at is null) as open from pool_events e left join incidents i on i.id = e.incident_id
			  where e.pool_id = $1 and e.object_ref = $2 and e.kind = 'vm_halted' order by e.at desc, e.id desc limit 1`,
			[poolId, vmRef]
		);
		const row = rows[0];
		return row && row.incident_id !== null && row.open ? row.incident_id : undefined;
	};

	for (const fact of ordered) {
		let at = fact.at;
		let incidentId: number | undefined;
		const host = failureHost(fact, view);
		if (host !== undefined) {
			const isDeclaration = fact.kind === 'host_dead' || fact.name === HaMessage.HA_HOST_FAILED;
			// The same failure seen twice (host_metrics and the message, maybe in separate
			// batches, maybe after the incident settled) stays one incident.
			let open = (await openFor(host)) ?? (await recentFor(host, at, isDeclaration ? SAME_FAILURE_MS : options.windowMs));
			// ... unless the host came back in between: then this is a new failure.
			if (open && isDeclaration && (await cameBackSince(open.id, at))) {
				await tx.query('update incidents set closed_at = coalesce(closed_at, $2) where id = $1', [open.id, new Date(at)]);
				open = undefined;
			}
			if (open) {
				incidentId = open.id;
				if (isDeclaration) {
					await tx.query(
						`update incidents set declared_dead_at = least(coalesce(declared_dead_at, $2), $2), started_at = least(started_at, $2) where id = $1`,
						[open.id, new Date(at)]
					);
				}
			} else if (isDeclaration) {
				const h = view.hosts[host];
				// With HA, a dead host's VMs are already halted here. Without it XAPI keeps showing
				// them running on the dead host: they are down, and nothing will restart them.
				const stranded = Object.entries(view.vms)
					.filter(([, vm]) => vm.residentOn === host && vm.power === 'Running')
					.map(([ref, vm]) => ({ ref, uuid: vm.uuid, name: vm.name, priority: vm.priority, order: vm.order }));
				const rows = await tx.query<{ id: number }>(
					`insert into incidents (pool_id, host_ref, host_uuid, host_name, started_at, declared_dead_at, last_activity_at, ha_timeout_s, stranded_vms)
					 values ($1, $2, $3, $4, $5, $5, $5, $6, $7::jsonb) returning id`,
					[poolId, host, h?.uuid ?? null, h?.name ?? null, new Date(at), view.pool?.haTimeoutS ?? null, JSON.stringify(stranded)]
				);
				incidentId = rows[0]?.id;
			}
		} else if (fact.kind === 'host_back') {
			incidentId = fact.ref ? (await openFor(fact.ref))?.id ?? (await recentFor(fact.ref, at, options.windowMs))?.id : undefined;
		} else if (fact.kind === 'vm_halted') {
			const from = fact.detail['from'];
			const open = typeof from === 'string' ? await openFor(from) : undefined;
			if (open) {
				incidentId = open.id;
				// xapi marks a dead host's VMs halted when it declares the host dead.
				if (open.declared_dead_at && open.declared_dead_at.getTime() <= at) at = open.declared_dead_at.getTime();
			}
		} else if (fact.kind === 'vm_started') {
			incidentId = fact.ref ? await incidentOfLastHalt(fact.ref) : undefined;
		} else if (fact.kind === 'ha_message' && fact.detail['cls'] === 'VM') {
			const vmRef = Object.entries(view.vms).find(([, v]) => v.uuid === fact.uuid)?.[0];
			incidentId = vmRef ? await incidentOfLastHalt(vmRef) : undefined;
		} else if (fact.kind === 'master_changed' || fact.kind === 'ha_config' || (fact.kind === 'ha_message' && POOL_WIDE_MESSAGES.has(fact.name ?? ''))) {
			incidentId = (await latestOpen())?.id;
		}

		const inserted = await tx.query<{ id: number }>(
			`insert into pool_events (pool_id, at, kind, object_class, object_ref, object_uuid, object_name, message_uuid, detail, incident_id)
			 values ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
			 on conflict (pool_id, message_uuid) where message_uuid is not null do nothing
			 returning id`,
			[poolId, new Date(at), fact.kind, fact.objectClass ?? null, fact.ref ?? null, fact.uuid ?? null, fact.name ?? null, fact.messageUuid ?? null, JSON.stringify(fact.detail), incidentId ?? null]
		);
		if (inserted.length === 0) continue;
		written++;
		if (incidentId !== undefined) {
			await tx.query('update incidents set last_activity_at = greatest(last_activity_at, $2) where id = $1', [incidentId, new Date(at)]);
		}
	}
	await closeSettledIncidents(tx, options);
	return written;
}

/** Closes incidents whose restartable VMs are all back, and those older than the window. */
async function closeSettledIncidents(tx: DbExecutor, { poolId, now, windowMs }: RecordOptions): Promise<void> {
	const open = await tx.query<{ id: number; started_at: Date; last_activity_at: Date }>(
		'select id, started_at, last_activity_at from incidents where pool_id = $1 and closed_at is null',
		[poolId]
	);
	for (const incident of open) {
		const events = await tx.query<{ kind: string; object_ref: string | null; detail: Record<string, unknown> }>(
			`select kind, object_ref, detail from pool_events where incident_id = $1 and kind in ('vm_halted', 'vm_started')`,
			[incident.id]
		);
		const halted = new Map<string, unknown>();
		const started = new Set<string>();
		for (const e of events) {
			if (!e.object_ref) continue;
			if (e.kind === 'vm_halted') halted.set(e.object_ref, e.detail['priority']);
			else started.add(e.object_ref);
		}
		const waiting = [...halted].filter(([ref, priority]) => haRestarts(priority) && !started.has(ref));
		const settled = halted.size > 0 && waiting.length === 0;
		const expired = now - incident.started_at.getTime() > windowMs;
		if (settled || expired) {
			await tx.query('update incidents set closed_at = $2 where id = $1', [incident.id, settled ? incident.last_activity_at : new Date(now)]);
		}
	}
}
