import { poolOverview } from '$lib/pool/overview';
import { poolFailure, requirePageSession } from '$lib/server/guard';
import { fetchOverviewClasses } from '$lib/server/pool-data';
import { clientFor } from '$lib/server/sessions';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const session = requirePageSession(locals);
	try {
		return { overview: poolOverview(await fetchOverviewClasses(clientFor(session))) };
	} catch (e) {
		poolFailure(e);
	}
};
