/** Headers every response carries (CSP itself comes from svelte.config.js, with hashes). */
export const SECURITY_HEADERS: Record<string, string> = {
	'x-content-type-options': 'nosniff',
	'x-frame-options': 'DENY',
	'referrer-policy': 'same-origin',
	'cross-origin-opener-policy': 'same-origin',
	'permissions-policy': 'camera=(), microphone=(), geolocation=()'
};

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A mutating request must come from our own origin. Browsers send `Origin` on every POST,
 * PUT, PATCH and DELETE; one without it (or from elsewhere) is refused, whatever its content
 * type — Kit's own check covers only form posts.
 */
export function isCrossSiteMutation(request: Request, url: URL): boolean {
	if (SAFE_METHODS.has(request.method)) return false;
	const origin = request.headers.get('origin');
	return origin === null || origin !== url.origin;
}
