import { error, json } from '@sveltejs/kit';
import { requireApiSession } from '$lib/server/guard';
import { findJob } from '$lib/server/operations';
import type { RequestHandler } from './$types';

/** A running or finished operation of the signed-in user: its steps, their status, progress. */
export const GET: RequestHandler = ({ locals, params }) => {
	const session = requireApiSession(locals);
	const job = findJob(session, params.id);
	if (!job) error(404, { message: 'No such operation', code: 'UNKNOWN_JOB' });
	return json({ job }, { headers: { 'cache-control': 'no-store' } });
};
