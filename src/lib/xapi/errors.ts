/**
 * One error type for every XAPI failure, whichever wire format carried it: callers branch on
 * `code`, never on message text.
 */
export class XapiError extends Error {
	readonly code: string;
	readonly params: readonly string[];
	/** The XAPI method that failed, when known (never its arguments: they may hold secrets). */
	call?: string;
	url?: string;
	task?: string;

	constructor(code: string, params: readonly string[] = [], opts: { call?: string; url?: string } = {}) {
		super(params.length > 0 ? `${code}(${params.join(', ')})` : code);
		this.name = 'XapiError';
		this.code = code;
		this.params = params;
		this.call = opts.call;
		this.url = opts.url;
	}

	/** Rebuilds an error from XAPI's `ErrorDescription` / JSON-RPC `[message, ...data]` form. */
	static fromDescription(description: unknown, call?: string): XapiError {
		if (Array.isArray(description) && description.length > 0) {
			const [code, ...params] = description.map((part) => String(part));
			return new XapiError(code ?? 'INTERNAL_ERROR', params, { call });
		}
		return new XapiError('INTERNAL_ERROR', [`malformed error description: ${JSON.stringify(description)}`], { call });
	}
}

/** Socket errors raised before a request left this machine: retrying it cannot run it twice. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function causeCode(cause: unknown): string | undefined {
	for (let current = cause, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
		const code = (current as { code?: unknown }).code;
		if (typeof code === 'string') return code;
	}
	return undefined;
}

/** The pool could not be reached at all (refused, reset, timed out): not an answer from XAPI. */
export class XapiConnectionError extends Error {
	readonly url: string;
	/** The socket error code (ECONNREFUSED, ECONNRESET...) when the runtime gave one. */
	readonly code: string | undefined;
	constructor(url: string, cause: unknown) {
		const code = causeCode(cause);
		const reason = cause instanceof Error ? cause.message : String(cause);
		super(`cannot reach ${url}: ${reason}${code && !reason.includes(code) ? ` (${code})` : ''}`);
		this.name = 'XapiConnectionError';
		this.url = url;
		this.code = code;
		this.cause = cause;
	}

	/**
	 * True when the request certainly never reached XAPI (connection refused, no route), so
	 * sending it again elsewhere cannot apply a change twice. A reset or a timeout is ambiguous.
	 */
	get notDelivered(): boolean {
		return this.code !== undefined && NOT_SENT_CODES.has(this.code);
	}
}

/** The endpoint answered, but not with a protocol we speak (wrong content type, bad body). */
export class UnsupportedTransportError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'UnsupportedTransportError';
	}
}

/**
 * XAPI echoes a stale session ref in `SESSION_INVALID` (and handle errors): swap it for a
 * placeholder so the ref never reaches a log line or the browser.
 */
export function redactSession(error: XapiError, session: string): XapiError {
	if (!error.params.includes(session)) return error;
	const redacted = new XapiError(
		error.code,
		error.params.map((p) => (p === session ? '(session)' : p)),
		{ call: error.call, url: error.url }
	);
	redacted.task = error.task;
	redacted.stack = error.stack?.replaceAll(session, '(session)');
	return redacted;
}

/** XAPI answered, but not in the shape the call promises (a bug or an unknown version). */
export class XapiResponseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'XapiResponseError';
	}
}

export function isXapiError(e: unknown, code?: string): e is XapiError {
	return e instanceof XapiError && (code === undefined || e.code === code);
}
