import type { Analysis } from '$lib/planner/analyse';
import type { FailoverPlan } from '$lib/planner/failover';
import type { Timeline } from '$lib/planner/timeline';
import type { WhatIfRow } from './rows';

/**
 * A CSV cell: quoted when it holds a separator, quote or line break, and defused when a
 * spreadsheet would read it as a formula (OWASP: a leading = + - @, tab or carriage return gets
 * a leading apostrophe). VM names come from the pool, so they are untrusted.
 */
export function csvCell(value: string | number | null | undefined): string {
	if (value === null || value === undefined) return '';
	let text = String(value);
	if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
	return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const CSV_COLUMNS = ['vm', 'from_host', 'to_host', 'unplaced_reason', 'priority', 'group', 'start_s', 'end_s'] as const;

/** One row per VM (see whatIfRows), CRLF line ends as RFC 4180 asks. */
export function planCsv(rows: readonly WhatIfRow[]): string {
	const lines = [CSV_COLUMNS.join(',')];
	for (const r of rows) {
		lines.push(
			[r.vm, r.fromHost, r.toHost, r.toHost === null ? r.reason : null, r.priority, r.group, r.start, r.end].map((v) => csvCell(v)).join(',')
		);
	}
	return `${lines.join('\r\n')}\r\n`;
}

export interface PlanExportInput {
	source: { kind: 'live' | 'file'; name: string };
	generatedAt: string;
	failedHosts: { ref: string; name: string }[];
	analysis: Analysis | null;
	plan: FailoverPlan;
	timeline: Timeline | null;
	rows: readonly WhatIfRow[];
}

/** The full plan object, with names beside refs, as pretty JSON. */
export function planJson(input: PlanExportInput): string {
	const { source, generatedAt, failedHosts, analysis, plan, timeline, rows } = input;
	return `${JSON.stringify(
		{
			format: 'haven-whatif-plan',
			version: 1,
			generatedAt,
			source,
			failedHosts,
			tolerance: analysis
				? { ntol: analysis.ntol, exact: analysis.exact, toolstackNtol: analysis.toolstackNtol, breakingSet: analysis.breakingSet }
				: null,
			remainingTolerance: { exact: plan.remainingNtol, toolstack: plan.remainingToolstackNtol },
			plan,
			timeline,
			vms: rows
		},
		null,
		2
	)}\n`;
}

/** A file name safe on every OS: the pool name and time, nothing else. */
export function exportFileName(poolName: string, generatedAt: string, ext: 'json' | 'csv'): string {
	const pool = poolName.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'pool';
	const stamp = generatedAt.replace(/[:]/g, '').replace(/\.\d+Z$/, 'Z');
	return `haven-whatif-${pool}-${stamp}.${ext}`;
}
