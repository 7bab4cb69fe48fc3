import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import { appHistory } from '$lib/server/app-history';
import { requirePageSession } from '$lib/server/guard';
import { getIncident } from '$lib/server/history';
import type { PageServerLoad } from './$types';

const IncidentId = v.pipe(v.string(), v.regex(/^\d{1,12}$/, 'must be a positive whole number'), v.toNumber(), v.minValue(1));

export const load: PageServerLoad = async ({ locals, params }) => {
	const session = requirePageSession(locals);
	const id = v.safeParse(IncidentId, params.id);
	if (!id.success) error(400, { message: `incident id ${id.issues[0]?.message ?? 'is invalid'}`, code: 'INVALID_INPUT' });
	const { db } = await appHistory();
	const incident = await getIncident(db, id.output);
	// Another pool's incident is as good as missing for this session.
	if (!incident || incident.poolId !== session.poolId) error(404, { message: `No incident ${id.output} on this pool`, code: 'NOT_FOUND' });
	return { incident };
};
