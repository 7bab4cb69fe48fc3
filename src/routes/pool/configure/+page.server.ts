import { requirePageSession } from '$lib/server/guard';
import type { PageServerLoad } from './$types';

/** The wizard reads the pool itself (/api/pool/snapshot, for the planner worker); here only who may change it. */
export const load: PageServerLoad = ({ locals }) => {
	const session = requirePageSession(locals);
	return { canConfigure: session.canConfigure, role: session.role };
};
