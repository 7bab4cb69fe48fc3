import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XapiCode } from '../codes';
import { XapiError } from '../errors';
import { handleControl } from './control';
import type { SimulatedPool } from './pool';
import { bareResponse, failureResponse, parseMethodCall, successResponse, XmlRpcParseError } from './xmlrpc';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface SimHttpServer {
	port: number;
	/** Base URL of the master's endpoint (at start). */
	url: string;
	/** Base URL of the always-on control listener (127.0.0.1, its own port). */
	controlUrl: string;
	close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) {
				reject(new Error('request body too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	// XAPI clients insist on exactly this content type.
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}

function sendXml(res: ServerResponse, text: string): void {
	res.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}

function asXapiError(e: unknown): XapiError {
	return e instanceof XapiError ? e : new XapiError(XapiCode.INTERNAL_ERROR, [e instanceof Error ? e.message : String(e)]);
}

interface JsonRpcRequest {
	jsonrpc?: unknown;
	method?: unknown;
	params?: unknown;
	id?: unknown;
}

/** JSON-RPC v1 and v2 as xapi's api_server.ml answers them (rpclib's Jsonrpc.string_of_response). */
async function handleJsonRpc(pool: SimulatedPool, body: string, hostAddress: string, res: ServerResponse): Promise<void> {
	let request: JsonRpcRequest;
	try {
		request = JSON.parse(body) as JsonRpcRequest;
		if (typeof request !== 'object' || request === null || Array.isArray(request)) throw new Error('not an object');
	} catch {
		sendJson(res, 200, { jsonrpc: '2.0', error: { code: 1, message: XapiCode.INTERNAL_ERROR, data: ['JSON-RPC request is not valid JSON'] }, id: null });
		return;
	}
	const v2 = request.jsonrpc === '2.0';
	const id = request.id ?? null;
	const method = typeof request.method === 'string' ? request.method : '';
	const params = Array.isArray(request.params) ? request.params : [];
	try {
		const result = await pool.call(method, params, { hostAddress });
		sendJson(res, 200, v2 ? { jsonrpc: '2.0', result, id } : { result, error: null, id });
	} catch (e) {
		const error = asXapiError(e);
		sendJson(
			res,
			200,
			v2
				? { jsonrpc: '2.0', error: { code: 1, message: error.code, data: [...error.params] }, id }
				: { result: null, error: [error.code, ...error.params], id }
		);
	}
}

async function handleXmlRpc(pool: SimulatedPool, body: string, hostAddress: string, res: ServerResponse): Promise<void> {
	let call;
	try {
		call = parseMethodCall(body);
	} catch (e) {
		const message = e instanceof XmlRpcParseError ? e.message : 'malformed request';
		sendXml(res, failureResponse([XapiCode.INTERNAL_ERROR, `XML-RPC parse error: ${message}`]));
		return;
	}
	try {
		const result = await pool.call(call.method, call.params, { hostAddress });
		// api_server.ml writes system.listMethods without the Status/Value wrapper.
		sendXml(res, call.method === 'system.listMethods' ? bareResponse(result) : successResponse(result));
	} catch (e) {
		const error = asXapiError(e);
		sendXml(res, failureResponse([error.code, ...error.params]));
	}
}

function isLoopback(address: string | undefined): boolean {
	return !!address && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

function handler(pool: SimulatedPool, hostAddress: string | null) {
	return (req: IncomingMessage, res: ServerResponse) => {
		readBody(req)
			.then(async (body) => {
				const path = (req.url ?? '/').split('?')[0] ?? '/';
				if (path.startsWith('/control')) {
					// A test and demo facility: never answer it off the machine.
					if (!isLoopback(req.socket.remoteAddress)) {
						sendJson(res, 403, { error: 'the control endpoint only answers on loopback' });
						return;
					}
					await handleControl(pool, { method: req.method ?? 'GET', path, body, via: hostAddress }, res);
					return;
				}
				if (hostAddress === null) {
					res.writeHead(404, { 'content-type': 'text/plain' });
					res.end('this listener only serves /control');
					return;
				}
				if (pool.responseDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, pool.responseDelayMs));
				if (req.method === 'POST' && (path === '/jsonrpc' || path.startsWith('/jsonrpc/'))) {
					await handleJsonRpc(pool, body, hostAddress, res);
				} else if (req.method === 'POST' && (path === '/' || path === '/RPC2')) {
					await handleXmlRpc(pool, body, hostAddress, res);
				} else {
					res.writeHead(404, { 'content-type': 'text/plain' });
					res.end('not found');
				}
			})
			.catch((err: unknown) => {
				if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
				res.end(err instanceof Error ? err.message : 'bad request');
			});
	};
}

function listen(server: Server, port: number, address: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const onError = (e: Error) => reject(e);
		server.once('error', onError);
		server.listen(port, address, () => {
			server.off('error', onError);
			resolve();
		});
	});
}

function closeServer(server: Server): Promise<void> {
	server.closeAllConnections();
	return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * Serves the pool's XAPI on every host's own loopback address, all on one port. A host that
 * fails or loses its network stops listening (clients see a refused connection, as with a dead
 * host), and listens again when it recovers. /control is answered on every live endpoint and on
 * a separate always-on listener, so a test can still bring back a pool whose hosts all died.
 */
export async function startSimHttpServer(pool: SimulatedPool, port = 0, controlPort = 0): Promise<SimHttpServer> {
	const servers = new Map<string, Server>();
	const addresses = pool.hostAddresses;
	let actualPort = port;
	let pending = Promise.resolve();

	const open = async (address: string, patient = true) => {
		if (servers.has(address)) return;
		const server = createServer(handler(pool, address));
		// The port of a listener closed a moment ago may not be free yet: retry briefly.
		for (let attempt = 0; ; attempt++) {
			try {
				await listen(server, actualPort, address);
				break;
			} catch (e) {
				if (!patient || attempt >= 20 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
				await new Promise((resolve) => setTimeout(resolve, 25));
			}
		}
		if (actualPort === 0) actualPort = (server.address() as AddressInfo).port;
		servers.set(address, server);
	};
	const shut = async (address: string) => {
		const server = servers.get(address);
		if (!server) return;
		servers.delete(address);
		// Stop accepting at once (new connections are refused, as by a dead host); give a
		// response already being written (the control call that killed this host) a moment,
		// then cut every connection, keep-alive ones and event.from long-polls included.
		server.close();
		server.closeIdleConnections();
		setTimeout(() => server.closeAllConnections(), 100).unref();
		await new Promise((resolve) => setImmediate(resolve));
	};

	const control = createServer(handler(pool, null));
	// With any free port asked for, the port the first address got may be taken on another
	// loopback address (by another simulated pool): then start over on a fresh port.
	for (let attempt = 1; ; attempt++) {
		try {
			for (const address of addresses) if (pool.runtime.endpointUp(address)) await open(address, false);
			break;
		} catch (e) {
			await Promise.all([...servers.values()].map(closeServer));
			servers.clear();
			if (port !== 0 || attempt >= 5 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
			actualPort = 0;
		}
	}
	try {
		await listen(control, controlPort, '127.0.0.1');
	} catch (e) {
		await Promise.all([...servers.values()].map(closeServer));
		throw e;
	}
	// Endpoint changes are serialised so a quick fail/recover cannot race its own close.
	const unsubscribe = pool.runtime.onEndpointChange((address, up) => {
		pending = pending
			.then(() => (up ? open(address) : shut(address)))
			.catch((e: unknown) => console.error(`sim: endpoint ${address} ${up ? 'open' : 'close'} failed`, e));
	});
	pool.endpointsSettled = () => pending;
	const master = addresses[0] ?? '127.0.0.1';
	return {
		port: actualPort,
		url: `http://${master}:${actualPort}`,
		controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
		close: async () => {
			unsubscribe();
			await pending;
			await Promise.all([...servers.values()].map(closeServer));
			servers.clear();
			await closeServer(control);
		}
	};
}
