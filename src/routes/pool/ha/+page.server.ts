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
		const classes = await fetchOverviewClasses(client);
		const overview = poolOverview(classes);
		// The pool's own maximum: pool-operators may ask it directly; read-only users may not
		// (RBAC), but may ask the hypothetical question with the priorities the pool has now,
		// which the toolstack answers by the same rule. The browser's planner then follows
		// changes live. A refusal is shown beside the number, not turned into a broken page.
		let poolMax: number | null = null;
		let poolMaxError: string | null = null;
		try {
			if (session.canConfigure) {
				poolMax = Number(await client.call<number | string>('pool.ha_compute_max_host_failures_to_tolerate'));
			} else {
				const configuration: Record<string, string> = {};
				for (const [ref, vm] of Object.entries(classes.VM)) {
					if (!vm.is_a_template && !vm.is_a_snapshot && !vm.is_control_domain && vm.ha_restart_priority !== '') configuration[ref] = vm.ha_restart_priority;
				}
				poolMax = Number(await client.call<number | string>('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', configuration));
			}
		} catch (e) {
			if (!(e instanceof XapiError)) throw e;
			poolMaxError = `${describeXapiError(e.code, e.params)} (${e.code})`;
		}
		return { overview, poolMax, poolMaxError };
	} catch (e) {
		poolFailure(e);
	}
};
