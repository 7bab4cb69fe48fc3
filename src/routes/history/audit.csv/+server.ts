import { appHistory } from '$lib/server/app-history';
import { auditFilterFromUrl } from '$lib/server/audit-filter';
import { requireApiSession } from '$lib/server/guard';
import { exportAuditCsv } from '$lib/server/history';
import type { RequestHandler } from './$types';

/** The audit log of the session's pool as CSV, with the page's filters. */
export const GET: RequestHandler = async ({ locals, url }) => {
	const session = requireApiSession(locals);
	const { filter } = auditFilterFromUrl(url, session.poolId, 100_000);
	const { db } = await appHistory();
	const csv = await exportAuditCsv(db, filter);
	return new Response(csv, {
		headers: {
			'content-type': 'text/csv; charset=utf-8',
			'content-disposition': `attachment; filename="haven-audit-${session.poolId}.csv"`,
			'cache-control': 'no-store'
		}
	});
};
