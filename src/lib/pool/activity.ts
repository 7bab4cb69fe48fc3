import type { MessageRecord, Ref, Snapshot, TaskRecord, TaskStatus } from '$lib/xapi/records';

/** A pool task as the Logs tab shows it. */
export interface TaskSummary {
	ref: Ref;
	name: string;
	status: TaskStatus;
	progress: number;
	created: string;
	finished: string;
	error: string[];
}

/** A pool message (alert) as the Logs and HA tabs show it. */
export interface MessageSummary {
	ref: Ref;
	name: string;
	priority: number;
	cls: string;
	objUuid: string;
	/** Name of the object the message is about, when Haven knows it. */
	objName: string | null;
	timestamp: string;
	body: string;
}

/** HA-related message names start like this; the HA tab shows only those. */
export function isHaMessage(name: string): boolean {
	return name.startsWith('HA_') || name === 'MASTER_CHANGED' || name === 'POOL_MASTER_TRANSITION';
}

export function taskSummaries(tasks: Record<Ref, TaskRecord>, limit = 50): TaskSummary[] {
	return Object.entries(tasks)
		.map(([ref, t]) => ({
			ref,
			name: t.name_label,
			status: t.status,
			progress: Number(t.progress) || 0,
			created: String(t.created),
			finished: String(t.finished),
			error: Array.isArray(t.error_info) ? t.error_info.map(String) : []
		}))
		.sort((a, b) => b.created.localeCompare(a.created))
		.slice(0, limit);
}

/** Names objects by uuid across the classes messages point at. */
function nameByUuid(s: Partial<Snapshot>): Map<string, string> {
	const names = new Map<string, string>();
	for (const cls of ['host', 'VM', 'SR', 'pool'] as const) {
		for (const r of Object.values(s[cls] ?? {})) names.set(r.uuid, r.name_label);
	}
	return names;
}

export function messageSummaries(s: Partial<Snapshot>, limit = 200): MessageSummary[] {
	const names = nameByUuid(s);
	return Object.entries((s.message ?? {}) as Record<Ref, MessageRecord>)
		.map(([ref, m]) => ({
			ref,
			name: m.name,
			priority: Number(m.priority),
			cls: m.cls,
			objUuid: m.obj_uuid,
			objName: names.get(m.obj_uuid) ?? null,
			timestamp: String(m.timestamp),
			body: m.body
		}))
		.sort((a, b) => b.timestamp.localeCompare(a.timestamp))
		.slice(0, limit);
}
