import { requirePageSession } from '$lib/server/guard';
import type { PageServerLoad } from './$types';

/** The page loads its snapshot itself (GET /api/pool/snapshot or a file) into the planner worker. */
export const load: PageServerLoad = ({ locals }) => {
	const session = requirePageSession(locals);
	return { poolName: session.poolName };
};
