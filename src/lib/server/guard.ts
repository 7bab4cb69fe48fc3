import { error, redirect } from '@sveltejs/kit';
import { describeXapiError } from '$lib/xapi/describe';
import { XapiConnectionError, XapiError } from '$lib/xapi/errors';
import type { SessionView } from './sessions';

/** For pages: no session means the login page. */
export function requirePageSession(locals: App.Locals): SessionView {
	if (!locals.session) redirect(303, '/login');
	return locals.session;
}

/** For API endpoints: no session is a 401, never a redirect. */
export function requireApiSession(locals: App.Locals): SessionView {
	if (!locals.session) error(401, { message: 'Not signed in', code: 'NOT_SIGNED_IN' });
	return locals.session;
}

/** Changes need pool-operator or above, decided from the pool's own RBAC at login. */
export function requireConfigure(locals: App.Locals): SessionView {
	const session = requireApiSession(locals);
	if (!session.canConfigure) error(403, { message: `Your role (${session.role}) cannot change HA settings`, code: 'FORBIDDEN_ROLE' });
	return session;
}

/** Turns a pool failure into an HTTP error with XAPI's code; anything else propagates. */
export function poolFailure(e: unknown): never {
	if (e instanceof XapiError) {
		const status = e.code === 'RBAC_PERMISSION_DENIED' ? 403 : e.code === 'SESSION_INVALID' ? 401 : 502;
		error(status, { message: describeXapiError(e.code, e.params), code: e.code });
	}
	if (e instanceof XapiConnectionError) error(503, { message: 'The pool is not answering', code: 'POOL_UNREACHABLE' });
	throw e;
}
