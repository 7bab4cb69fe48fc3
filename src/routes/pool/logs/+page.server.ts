import { requirePageSession } from '$lib/server/guard';
import type { PageServerLoad } from './$types';

/** Tasks and messages arrive over the live feed (the server resends the latest on connect). */
export const load: PageServerLoad = ({ locals }) => {
	requirePageSession(locals);
	return {};
};
