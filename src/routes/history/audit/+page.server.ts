import { appHistory } from '$lib/server/app-history';
import { auditFilterFromUrl } from '$lib/server/audit-filter';
import { requirePageSession } from '$lib/server/guard';
import { queryAudit } from '$lib/server/history';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, url }) => {
	const session = requirePageSession(locals);
	const { filter, values } = auditFilterFromUrl(url, session.poolId, 500);
	const { db } = await appHistory();
	const entries = await queryAudit(db, filter);
	return {
		values,
		query: url.searchParams.toString(),
		entries: entries.map((e) => ({
			id: e.id,
			startedAt: e.startedAt,
			finishedAt: e.finishedAt,
			user: e.user,
			role: e.role,
			action: e.action,
			outcome: e.outcome,
			request: JSON.stringify(e.request),
			answer: JSON.stringify(e.outcome === 'failure' ? e.error : e.response) ?? ''
		}))
	};
};
