import { poolOverview } from '$lib/pool/overview';
import { poolFailure, requirePageSession } from '$lib/server/guard';
import { fetchOverviewClasses } from '$lib/server/pool-data';
import { clientFor } from '$lib/server/sessions';
import { describeXapiError } from '$lib/xapi/describe';
import { XapiError } from '$lib/xapi/errors';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
	const session = requirePageSession(locals);
	const client = clientFor(session);
	try {
		const overview = poolOverview(await fetchOverviewClasses(client));
		// The pool's own maximum needs pool-operator; read-only users get the planner's answer
		// (the same rule, computed in their browser) instead of a refused call. A refusal here
		// is shown beside the number, not turned into a broken page.
		let poolMax: number | null = null;
		let poolMaxError: string | null = null;
		if (session.canConfigure) {
			try {
				poolMax = Number(await client.call<number | string>('pool.ha_compute_max_host_failures_to_tolerate'));
			} catch (e) {
				if (!(e instanceof XapiError)) throw e;
				poolMaxError = `${describeXapiError(e.code, e.params)} (${e.code})`;
			}
		}
		return { overview, poolMax, poolMaxError };
	} catch (e) {
		poolFailure(e);
	}
};
