import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { XapiError } from '../errors';
import type { SimulatedPool } from './pool';

const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface SimHttpServer {
	port: number;
	/** Base URL of the master's endpoint. */
	url: string;
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

function sendJson(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	// XAPI clients insist on exactly this content type.
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}

interface JsonRpcRequest {
	jsonrpc?: unknown;
	method?: unknown;
	params?: unknown;
	id?: unknown;
}

async function handleJsonRpc(pool: SimulatedPool, body: string, hostAddress: string, res: ServerResponse): Promise<void> {
	let request: JsonRpcRequest;
	try {
		request = JSON.parse(body) as JsonRpcRequest;
	} catch {
		sendJson(res, 200, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error', data: [] } });
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
		const error = e instanceof XapiError ? e : new XapiError('INTERNAL_ERROR', [e instanceof Error ? e.message : String(e)]);
		sendJson(
			res,
			200,
			v2
				? { jsonrpc: '2.0', error: { code: 1, message: error.code, data: [...error.params] }, id }
				: { result: null, error: [error.code, ...error.params], id }
		);
	}
}

/** Serves the pool's XAPI on every host's own loopback address, all on one port. */
export async function startSimHttpServer(pool: SimulatedPool, port = 0): Promise<SimHttpServer> {
	const servers: Server[] = [];
	const listen = (address: string, wanted: number) =>
		new Promise<Server>((resolve, reject) => {
			const server = createServer((req, res) => {
				const hostAddress = address;
				readBody(req)
					.then(async (body) => {
						if (req.method === 'POST' && req.url?.startsWith('/jsonrpc')) {
							await handleJsonRpc(pool, body, hostAddress, res);
						} else {
							res.writeHead(404, { 'content-type': 'text/plain' });
							res.end('not found');
						}
					})
					.catch((err: unknown) => {
						if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
						res.end(err instanceof Error ? err.message : 'bad request');
					});
			});
			server.once('error', reject);
			server.listen(wanted, address, () => resolve(server));
		});

	const addresses = pool.hostAddresses;
	const first = await listen(addresses[0] ?? '127.0.0.1', port);
	servers.push(first);
	const actualPort = (first.address() as AddressInfo).port;
	try {
		for (const address of addresses.slice(1)) servers.push(await listen(address, actualPort));
	} catch (e) {
		await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
		throw e;
	}
	return {
		port: actualPort,
		url: `http://${addresses[0]}:${actualPort}`,
		close: async () => {
			for (const s of servers) s.closeAllConnections();
			await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
		}
	};
}
