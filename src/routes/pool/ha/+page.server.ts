import { poolOverview } from '$lib/pool/overview';
import { poolFailure, requirePageSession } from '$lib/server/guard';
import { fetchOverviewClasses } from '$lib/server/pool-data';
import { clientFor } from '$lib/server/sessions';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const session = requirePageSession(locals);
	const client = clientFor(session);
	try {
		const overview = poolOverview(await fetchOverviewClasses(client));
		// The pool's own maximum needs pool-operator; read-only users get the planner's answer
		// (the same rule, computed in their browser) instead of a refused call.
		const poolMax = session.canConfigure ? Number(await client.call<number | string>('pool.ha_compute_max_host_failures_to_tolerate')) : null;
		return { overview, poolMax };
	} catch (e) {
		poolFailure(e);
	}
};
