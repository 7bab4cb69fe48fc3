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

/** The pool could not be reached at all (refused, reset, timed out): not an answer from XAPI. */
export class XapiConnectionError extends Error {
	readonly url: string;
	constructor(url: string, cause: unknown) {
		super(`cannot reach ${url}: ${cause instanceof Error ? cause.message : String(cause)}`);
		this.name = 'XapiConnectionError';
		this.url = url;
		this.cause = cause;
	}
}

/** The endpoint answered, but not with a protocol we speak (wrong content type, bad body). */
export class UnsupportedTransportError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'UnsupportedTransportError';
	}
}

export function isXapiError(e: unknown, code?: string): e is XapiError {
	return e instanceof XapiError && (code === undefined || e.code === code);
}
