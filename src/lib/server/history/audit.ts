/**
 * The audit log: every change Haven asks a pool to make, who asked, and what the pool said.
 * A row is written (and committed) before the call and completed after it, so a process that
 * dies in between leaves a `pending` row that `startInstance` later marks `interrupted`.
 */
import * as v from 'valibot';
import type { Db } from './db';
import { toCsv } from './csv';
import { dateInput, parseInput, shortText } from './validate';

export const AUDIT_OUTCOMES = ['pending', 'success', 'failure', 'interrupted'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEntry {
	id: number;
	instanceId: string;
	startedAt: Date;
	finishedAt: Date | null;
	user: string;
	role: string;
	pool: string;
	action: string;
	request: unknown;
	outcome: AuditOutcome;
	response: unknown;
	error: unknown;
}

const beginSchema = v.object({
	user: shortText(),
	role: shortText(64),
	pool: shortText(),
	action: shortText(),
	request: v.optional(v.unknown(), {})
});
export type AuditBeginInput = v.InferInput<typeof beginSchema>;

const endSchema = v.variant('outcome', [
	v.object({ outcome: v.literal('success'), response: v.optional(v.unknown()) }),
	v.object({ outcome: v.literal('failure'), error: v.unknown() })
]);
export type AuditEndInput = v.InferInput<typeof endSchema>;

const filterSchema = v.object({
	user: v.optional(shortText()),
	pool: v.optional(shortText()),
	action: v.optional(shortText()),
	outcome: v.optional(v.picklist(AUDIT_OUTCOMES, `must be one of ${AUDIT_OUTCOMES.join(', ')}`)),
	from: v.optional(dateInput),
	to: v.optional(dateInput),
	/** Only entries with a smaller id: the cursor for the next page. */
	beforeId: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
	limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000)), 200)
});
export type AuditFilter = v.InferInput<typeof filterSchema>;

const SECRET_KEY = /pass(word)?|secret|session|cookie|authori[sz]ation|credential/i;

/** Drops values that must never be stored: the audit log is readable by helpdesk users. */
export function redactSecrets(value: unknown, depth = 0): unknown {
	if (depth > 20) return '[too deep]';
	if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
	if (value instanceof Date) return value.toISOString();
	if (typeof value === 'object' && value !== null) {
		return Object.fromEntries(
			Object.entries(value).map(([k, item]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redactSecrets(item, depth + 1)])
		);
	}
	if (typeof value === 'bigint') return value.toString();
	if (typeof value === 'function' || typeof value === 'symbol') return undefined;
	return value;
}

/** How an error is stored: XAPI errors keep their code and params, others their message. */
export function describeError(error: unknown): { code: string; params?: readonly unknown[]; message: string } {
	if (typeof error === 'object' && error !== null) {
		const e = error as { code?: unknown; params?: unknown; message?: unknown; name?: unknown };
		const message = typeof e.message === 'string' ? e.message : String(error);
		if (typeof e.code === 'string') return { code: e.code, params: Array.isArray(e.params) ? e.params : undefined, message };
		return { code: typeof e.name === 'string' ? e.name : 'ERROR', message };
	}
	return { code: 'ERROR', message: String(error) };
}

/** Past this, a request or answer is stored as a preview: the log is for people, not dumps. */
export const AUDIT_VALUE_MAX_CHARS = 64 * 1024;

function json(value: unknown): string | null {
	if (value === undefined) return null;
	const text = JSON.stringify(redactSecrets(value) ?? null);
	if (text.length <= AUDIT_VALUE_MAX_CHARS) return text;
	return JSON.stringify({ truncated: true, chars: text.length, preview: text.slice(0, 2000) });
}

interface AuditRow extends Record<string, unknown> {
	id: number;
	instance_id: string;
	started_at: Date;
	finished_at: Date | null;
	user_name: string;
	user_role: string;
	pool_id: string;
	action: string;
	request: unknown;
	outcome: AuditOutcome;
	response: unknown;
	error: unknown;
}

const fromRow = (r: AuditRow): AuditEntry => ({
	id: r.id,
	instanceId: r.instance_id,
	startedAt: r.started_at,
	finishedAt: r.finished_at,
	user: r.user_name,
	role: r.user_role,
	pool: r.pool_id,
	action: r.action,
	request: r.request,
	outcome: r.outcome,
	response: r.response,
	error: r.error
});

export interface AuditLog {
	/** Records the intent; resolves once it is committed, so the call may start. */
	begin(input: AuditBeginInput): Promise<number>;
	/** Records the pool's answer. */
	end(id: number, result: AuditEndInput): Promise<void>;
	/** begin → fn → end(success | failure), rethrowing fn's error. */
	record<T>(input: AuditBeginInput, fn: () => Promise<T>): Promise<T>;
}

/** An audit log writing as `instanceId` (see startInstance). */
export function createAuditLog(db: Db, instanceId: string): AuditLog {
	const log: AuditLog = {
		async begin(input) {
			const i = parseInput(beginSchema, input, 'audit entry');
			const rows = await db.query<{ id: number }>(
				`insert into audit_log (instance_id, user_name, user_role, pool_id, action, request)
				 values ($1, $2, $3, $4, $5, $6::jsonb) returning id`,
				[instanceId, i.user, i.role, i.pool, i.action, json(i.request) ?? '{}']
			);
			const id = rows[0]?.id;
			if (id === undefined) throw new Error('audit_log insert returned no id');
			return id;
		},
		async end(id, result) {
			const r = parseInput(endSchema, result, 'audit result');
			// An entry another instance already marked interrupted (this one looked dead) still
			// gets the real answer: the truth beats the guess.
			const rows = await db.query(
				`update audit_log set outcome = $2, finished_at = now(), response = $3::jsonb, error = $4::jsonb
				  where id = $1 and outcome in ('pending', 'interrupted') returning id`,
				[id, r.outcome, r.outcome === 'success' ? json(r.response) : null, r.outcome === 'failure' ? json(describeError(r.error)) : null]
			);
			if (rows.length === 0) {
				const known = await db.query<{ outcome: string }>('select outcome from audit_log where id = $1', [id]);
				throw new Error(known[0] ? `audit entry ${id} is already closed (${known[0].outcome})` : `no audit entry ${id}`);
			}
		},
		async record(input, fn) {
			const id = await log.begin(input);
			let result: Awaited<ReturnType<typeof fn>>;
			try {
				result = await fn();
			} catch (e) {
				await log.end(id, { outcome: 'failure', error: e });
				throw e;
			}
			await log.end(id, { outcome: 'success', response: result });
			return result;
		}
	};
	return log;
}

/** Newest first. Filters combine with AND; `from` inclusive, `to` exclusive. */
export async function queryAudit(db: Db, filter: AuditFilter = {}): Promise<AuditEntry[]> {
	const f = parseInput(filterSchema, filter, 'audit filter');
	const where: string[] = [];
	const params: unknown[] = [];
	const add = (clause: string, value: unknown) => {
		params.push(value);
		where.push(clause.replace('?', `$${params.length}`));
	};
	if (f.user !== undefined) add('user_name = ?', f.user);
	if (f.pool !== undefined) add('pool_id = ?', f.pool);
	if (f.action !== undefined) add('action = ?', f.action);
	if (f.outcome !== undefined) add('outcome = ?', f.outcome);
	if (f.from !== undefined) add('started_at >= ?', f.from);
	if (f.to !== undefined) add('started_at < ?', f.to);
	if (f.beforeId !== undefined) add('id < ?', f.beforeId);
	params.push(f.limit);
	const rows = await db.query<AuditRow>(
		`select * from audit_log ${where.length ? `where ${where.join(' and ')}` : ''}
		  order by started_at desc, id desc limit $${params.length}`,
		params
	);
	return rows.map(fromRow);
}

export const AUDIT_CSV_HEADER = ['id', 'started_at', 'finished_at', 'user', 'role', 'pool', 'action', 'outcome', 'request', 'response', 'error'] as const;

export function auditToCsv(entries: readonly AuditEntry[]): string {
	const j = (value: unknown) => (value === null || value === undefined ? '' : JSON.stringify(value));
	return toCsv(
		AUDIT_CSV_HEADER,
		entries.map((e) => [e.id, e.startedAt, e.finishedAt, e.user, e.role, e.pool, e.action, e.outcome, j(e.request), j(e.response), j(e.error)])
	);
}

/** The filtered log as CSV (up to `limit`, default 100 000 rows). */
export async function exportAuditCsv(db: Db, filter: AuditFilter = {}): Promise<string> {
	return auditToCsv(await queryAudit(db, { limit: 100_000, ...filter }));
}
