import { json } from '@sveltejs/kit';
import { poolFailure, requireApiSession } from '$lib/server/guard';
import { fetchPlanningSnapshot } from '$lib/server/pool-data';
import { clientFor } from '$lib/server/sessions';
import type { RequestHandler } from './$types';

/** The live pool in the snapshot format: what the planner worker loads. Any role may read it. */
export const GET: RequestHandler = async ({ locals }) => {
	const session = requireApiSession(locals);
	try {
		return json(await fetchPlanningSnapshot(clientFor(session)), { headers: { 'cache-control': 'no-store' } });
	} catch (e) {
		poolFailure(e);
	}
};
