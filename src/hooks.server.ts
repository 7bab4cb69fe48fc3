import type { Handle, HandleServerError, ServerInit } from '@sveltejs/kit';
import { appHistory } from '$lib/server/app-history';
import { startCollectors } from '$lib/server/collectors';
import { ensureEmbeddedPool } from '$lib/server/embedded-pool';
import { log } from '$lib/server/log';
import { SECURITY_HEADERS, isCrossSiteMutation } from '$lib/server/security';
import { installShutdown } from '$lib/server/shutdown';
import { SESSION_COOKIE, findSession, sweepExpiredSessions } from '$lib/server/sessions';

export const init: ServerInit = async () => {
	const [embedded] = await Promise.all([ensureEmbeddedPool(), appHistory()]);
	await startCollectors(embedded ? { password: embedded.password, now: () => embedded.pool.clock.now() } : undefined);
	installShutdown(embedded);
	// Expired sessions are logged out on the pool even if their browser never comes back.
	setInterval(() => void sweepExpiredSessions(), 60_000).unref();
};

export const handle: Handle = async ({ event, resolve }) => {
	if (isCrossSiteMutation(event.request, event.url)) {
		return new Response(JSON.stringify({ message: 'Cross-site request refused', code: 'CROSS_SITE_REQUEST' }), {
			status: 403,
			headers: { 'content-type': 'application/json', ...SECURITY_HEADERS }
		});
	}
	event.locals.session = findSession(event.cookies.get(SESSION_COOKIE));
	const response = await resolve(event);
	for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
	return response;
};

export const handleError: HandleServerError = ({ error, status, message }) => {
	if (status >= 500) log.error({ err: error instanceof Error ? { name: error.name, message: error.message } : String(error) }, 'unhandled error');
	return { message: status >= 500 ? 'Internal error' : message, code: status >= 500 ? 'INTERNAL' : undefined };
};
