import { json } from '@sveltejs/kit';
import { requireApiSession } from '$lib/server/guard';
import type { RequestHandler } from './$types';

/** Who is signed in (401 when nobody): pages ask after their live stream is refused. */
export const GET: RequestHandler = ({ locals }) => {
	const session = requireApiSession(locals);
	return json({ user: session.user, role: session.role, canConfigure: session.canConfigure, pool: session.poolName }, { headers: { 'cache-control': 'no-store' } });
};
