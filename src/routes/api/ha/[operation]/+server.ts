import { json } from '@sveltejs/kit';
import { requireConfigure } from '$lib/server/guard';
import { OperationRefused, readJsonBody, startOperation } from '$lib/server/operations';
import { clientFor } from '$lib/server/sessions';
import type { RequestHandler } from './$types';

/**
 * Starts one operation of the allow-list (`ha.<operation>`, see $lib/server/operations):
 * 202 with the job to poll, or a 4xx saying what is wrong (nothing changed then).
 */
export const POST: RequestHandler = async ({ locals, params, request }) => {
	// Role first: a read-only user learns nothing about the input or the pool from here.
	const session = requireConfigure(locals);
	try {
		const body = await readJsonBody(request);
		const { job } = await startOperation(session, clientFor(session), `ha.${params.operation}`, body);
		return json({ job }, { status: 202, headers: { location: `/api/ha/jobs/${job.id}` } });
	} catch (e) {
		if (e instanceof OperationRefused) return json(e.toJSON(), { status: e.status });
		throw e;
	}
};

