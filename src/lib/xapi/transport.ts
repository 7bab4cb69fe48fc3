import { XapiCode } from './codes';
import { UnsupportedTransportError, XapiConnectionError, XapiError } from './errors';
import { convertInt64Fields, parseXmlRpcResponse, writeXmlRpcCall } from './xmlrpc';

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

const GATEWAY_FAILURES = new Set([502, 503, 504]);

class GatewayFailure extends Error {
	constructor(status: number) {
		super(`HTTP ${status} from a gateway`);
	}
}

/**
 * One HTTP POST with the call's deadline and the caller's signal, read as text. A failure to
 * get an answer is `XapiConnectionError`; the caller aborting is the signal's reason.
 */
async function post(
	url: string,
	contentType: string,
	body: string,
	method: string,
	params: readonly unknown[],
	options: JsonRpcOptions,
	caller: AbortSignal | undefined
): Promise<{ contentType: string; text: string }> {
	caller?.throwIfAborted();
	const doFetch: FetchLike = options.fetch ?? ((u, init) => fetch(u, init));
	const timeoutMs = callTimeoutMs(method, params, options.timeoutMs);
	const signals = [caller, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)].filter((s) => s !== undefined);
	const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
	try {
		const response = await doFetch(url, { method: 'POST', headers: { 'content-type': contentType }, body, signal });
		if (!response.ok) {
			await response.body?.cancel().catch(() => undefined);
			// A proxy in front saying the host behind it did not answer: silence, not a protocol.
			if (GATEWAY_FAILURES.has(response.status)) throw new GatewayFailure(response.status);
			throw new UnsupportedTransportError(`${url} answered HTTP ${response.status} to ${method}`);
		}
		return { contentType: (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '', text: await response.text() };
	} catch (cause) {
		if (cause instanceof UnsupportedTransportError) throw cause;
		// The caller giving up is not the pool failing to answer: it must not trigger failover.
		if (caller?.aborted) throw caller.reason;
		throw new XapiConnectionError(url, cause);
	}
}

/** JSON-RPC 2.0 over HTTP POST to `<base>/jsonrpc`, as XAPI serves it. */
export function jsonRpcTransport(baseUrl: string, options: JsonRpcOptions = {}): Transport {
	const url = new URL('/jsonrpc', baseUrl).toString();
	let nextId = 1;

	return async (method, params, callOptions = {}) => {
		const id = nextId++;
		const body = JSON.stringify({ jsonrpc: '2.0', method, params, id });
		const answer = await post(url, 'application/json', body, method, params, options, callOptions.signal);
		// XAPI sends exactly this; anything else is not XAPI's JSON-RPC (an old host, a proxy page).
		if (answer.contentType !== 'application/json') {
			throw new UnsupportedTransportError(`${url} answered ${method} with content type "${answer.contentType}", not application/json`);
		}
		let payload: unknown;
		try {
			payload = JSON.parse(answer.text);
		} catch {
			throw new UnsupportedTransportError(`${url} answered ${method} with malformed JSON`);
		}
		return unwrapJsonRpc(payload, method);
	};
}

/**
 * XML-RPC over HTTP POST to `<base>/`, the protocol every XAPI version speaks. int64 fields come
 * back as numbers (see `convertInt64Fields`), as over JSON-RPC.
 */
export function xmlRpcTransport(baseUrl: string, options: JsonRpcOptions = {}): Transport {
	const url = new URL('/', baseUrl).toString();
	return async (method, params, callOptions = {}) => {
		const body = writeXmlRpcCall(method, params);
		const answer = await post(url, 'text/xml', body, method, params, options, callOptions.signal);
		if (answer.contentType !== 'text/xml' && answer.contentType !== 'application/xml') {
			throw new UnsupportedTransportError(`${url} answered ${method} with content type "${answer.contentType}", not text/xml`);
		}
		let response: ReturnType<typeof parseXmlRpcResponse>;
		try {
			response = parseXmlRpcResponse(answer.text);
		} catch (e) {
			throw new UnsupportedTransportError(`${url} answered ${method} with malformed XML-RPC: ${e instanceof Error ? e.message : String(e)}`);
		}
		if ('fault' in response) {
			const fault = response.fault as { faultString?: unknown } | null;
			throw XapiError.fromDescription([XapiCode.INTERNAL_ERROR, String(fault?.faultString ?? 'XML-RPC fault')], method);
		}
		const value = response.value as { Status?: unknown; Value?: unknown; ErrorDescription?: unknown } | null;
		// system.listMethods answers a bare value; everything else a Status struct.
		if (value === null || typeof value !== 'object' || Array.isArray(value) || value.Status === undefined) return convertInt64Fields(value);
		if (value.Status !== 'Success') throw XapiError.fromDescription(value.ErrorDescription, method);
		return convertInt64Fields(value.Value);
	};
}

/**
 * JSON-RPC first, as XO's auto transport does; an endpoint that does not speak it (older
 * XenServer answers 404 or XML) switches this transport to XML-RPC for good.
 */
export function autoTransport(baseUrl: string, options: JsonRpcOptions = {}): Transport {
	const json = jsonRpcTransport(baseUrl, options);
	let current: Transport = json;
	return async (method, params, callOptions) => {
		if (current !== json) return current(method, params, callOptions);
		try {
			return await json(method, params, callOptions);
		} catch (e) {
			if (!(e instanceof UnsupportedTransportError)) throw e;
			current = xmlRpcTransport(baseUrl, options);
			return current(method, params, callOptions);
		}
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
