import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import { AUDIT_OUTCOMES, type AuditFilter } from './history';

const optionalText = v.optional(v.pipe(v.string(), v.trim(), v.maxLength(200, 'is too long')));
const optionalDate = v.optional(
	v.pipe(
		v.string(),
		v.check((s) => !Number.isNaN(Date.parse(s)), 'is not a date'),
		v.transform((s) => new Date(s))
	)
);

const AuditQuery = v.object({
	user: optionalText,
	action: optionalText,
	outcome: v.optional(v.picklist(AUDIT_OUTCOMES, `must be one of ${AUDIT_OUTCOMES.join(', ')}`)),
	from: optionalDate,
	to: optionalDate
});

export type AuditQueryValues = Record<'user' | 'action' | 'outcome' | 'from' | 'to', string>;

/**
 * Reads the audit filters from a query string (empty fields ignored) for the session's pool;
 * a bad field is a 400 naming it.
 */
export function auditFilterFromUrl(url: URL, poolId: string, limit: number): { filter: AuditFilter; values: AuditQueryValues } {
	const values: AuditQueryValues = { user: '', action: '', outcome: '', from: '', to: '' };
	const raw: Record<string, string> = {};
	for (const key of Object.keys(values) as (keyof AuditQueryValues)[]) {
		const value = url.searchParams.get(key)?.trim() ?? '';
		values[key] = value;
		if (value !== '') raw[key] = value;
	}
	const parsed = v.safeParse(AuditQuery, raw);
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const field = issue?.path?.map((p) => String(p.key)).join('.') ?? 'filter';
		error(400, { message: `${field} ${issue?.message ?? 'is invalid'}`, code: 'INVALID_INPUT' });
	}
	const f = parsed.output;
	return {
		values,
		filter: {
			pool: poolId,
			limit,
			...(f.user ? { user: f.user } : {}),
			...(f.action ? { action: f.action } : {}),
			...(f.outcome ? { outcome: f.outcome } : {}),
			...(f.from ? { from: f.from } : {}),
			...(f.to ? { to: f.to } : {})
		}
	};
}
