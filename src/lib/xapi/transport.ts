import { UnsupportedTransportError, XapiConnectionError, XapiError } from './errors';

/** Per-call settings a transport honours when it can. */
export interface TransportCallOptions {
	/** Aborting rejects the call with the signal's reason, never with `XapiConnectionError`. */
	signal?: AbortSignal;
}

/**
 * A transport is just a function: one XAPI call, raw arguments in, raw result out. It throws
 * `XapiError` when XAPI answered with a failure, `XapiConnectionError` when nobody answered.
 */
export type Transport = (method: string, params: readonly unknown[], options?: TransportCallOptions) => Promise<unknown>;

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<Response>;

export interface JsonRpcOptions {
	fetch?: FetchLike;
	/** Milliseconds before a call counts as unanswered (event.from waits longer by itself). */
	timeoutMs?: number;
}

/** JSON-RPC 2.0 over HTTP POST to `<base>/jsonrpc`, as XAPI serves it. */
export function jsonRpcTransport(baseUrl: string, options: JsonRpcOptions = {}): Transport {
	const url = new URL('/jsonrpc', baseUrl).toString();
	const doFetch: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
	let nextId = 1;

	return async (method, params, callOptions = {}) => {
		const id = nextId++;
		const body = JSON.stringify({ jsonrpc: '2.0', method, params, id });
		const caller = callOptions.signal;
		caller?.throwIfAborted();
		const timeoutMs = callTimeoutMs(method, params, options.timeoutMs);
		const signals = [caller, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter((s) => s !== undefined);
		const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
		let response: Response;
		try {
			response = await doFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal });
		} catch (cause) {
			// The caller giving up is not the pool failing to answer: it must not trigger failover.
			if (caller?.aborted) throw caller.reason;
			throw new XapiConnectionError(url, cause);
		}
		if (!response.ok) {
			throw new UnsupportedTransportError(`${url} answered HTTP ${response.status} to ${method}`);
		}
		const contentType = response.headers.get('content-type') ?? '';
		if (contentType.split(';')[0]?.trim() !== 'application/json') {
			throw new UnsupportedTransportError(`${url} answered ${method} with content type "${contentType}", not application/json`);
		}
		let payload: unknown;
		try {
			payload = await response.json();
		} catch (cause) {
			if (caller?.aborted) throw caller.reason;
			throw new XapiConnectionError(url, cause);
		}
		return unwrapJsonRpc(payload, method);
	};
}

/**
 * `event.from` long-polls for as many seconds as its last argument asks: the call only counts as
 * unanswered once that wait plus the usual allowance has passed.
 */
export function callTimeoutMs(method: string, params: readonly unknown[], baseMs: number | undefined): number | undefined {
	if (baseMs === undefined || baseMs <= 0) return undefined;
	if (method === 'event.from') {
		const waitS = Number(params[3]);
		if (Number.isFinite(waitS) && waitS > 0) return baseMs + waitS * 1000;
	}
	return baseMs;
}

/** Reads a v1 or v2 JSON-RPC response the way XAPI writes them. */
export function unwrapJsonRpc(payload: unknown, method: string): unknown {
	if (typeof payload !== 'object' || payload === null) {
		throw new UnsupportedTransportError(`${method}: response is not a JSON object`);
	}
	const response = payload as { result?: unknown; error?: unknown };
	if (response.error !== undefined && response.error !== null) {
		const error = response.error;
		if (Array.isArray(error)) throw XapiError.fromDescription(error, method);
		if (typeof error === 'object') {
			const { message, data } = error as { message?: unknown; data?: unknown };
			const params = Array.isArray(data) ? data : data === undefined || data === null ? [] : [data];
			throw XapiError.fromDescription([message, ...params], method);
		}
		throw XapiError.fromDescription([String(error)], method);
	}
	if (!('result' in response)) {
		throw new UnsupportedTransportError(`${method}: response has neither result nor error`);
	}
	return response.result;
}
