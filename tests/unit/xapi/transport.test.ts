import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XapiClient } from '../../../src/lib/xapi/client';
import { XapiCode } from '../../../src/lib/xapi/codes';
import { UnsupportedTransportError, XapiConnectionError } from '../../../src/lib/xapi/errors';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';
import { autoTransport, callTimeoutMs, jsonRpcTransport, xmlRpcTransport } from '../../../src/lib/xapi/transport';

const PASSWORD = 'transport-test-secret';
let sim: RunningSimulatedPool;
/** An older host: no /jsonrpc (404), XML-RPC at / (forwarded to the simulated master). */
let xmlOnly: Server;
let xmlOnlyUrl: string;

beforeAll(async () => {
	sim = await startSimulatedPool({ port: 0, password: PASSWORD, authFailureDelayMs: 10 });
	xmlOnly = createServer((req, res) => {
		if (req.url?.startsWith('/jsonrpc')) {
			res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not found</h1>');
			return;
		}
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			fetch(new URL('/', sim.url), { method: 'POST', headers: { 'content-type': 'text/xml' }, body: Buffer.concat(chunks) })
				.then(async (answer) => {
					res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' }).end(await answer.text());
				})
				.catch(() => res.destroy());
		});
	});
	await new Promise<void>((resolve) => xmlOnly.listen(0, '127.0.0.1', resolve));
	xmlOnlyUrl = `http://127.0.0.1:${(xmlOnly.address() as AddressInfo).port}`;
});
afterAll(async () => {
	xmlOnly?.closeAllConnections();
	await new Promise((r) => xmlOnly?.close(r));
	await sim?.stop();
});

describe('XML-RPC transport', () => {
	it('reads the same records as JSON-RPC, int64 fields as numbers', async () => {
		const xml = xmlRpcTransport(sim.url);
		const json = jsonRpcTransport(sim.url);
		const session = await xml('session.login_with_password', ['root', PASSWORD]);
		expect(session).toMatch(/^OpaqueRef:/);
		for (const cls of ['VM', 'host_metrics', 'pool', 'SR']) {
			expect(await xml(`${cls}.get_all_records`, [session]), cls).toEqual(await json(`${cls}.get_all_records`, [session]));
		}
		const vm = Object.values((await xml('VM.get_all_records', [session])) as Record<string, { memory_static_max: unknown }>)[0];
		expect(typeof vm?.memory_static_max).toBe('number');
		await xml('session.logout', [session]);
	});

	it('turns a Failure status into XapiError with its code', async () => {
		await expect(xmlRpcTransport(sim.url)('session.login_with_password', ['root', 'nope'])).rejects.toMatchObject({
			code: XapiCode.SESSION_AUTHENTICATION_FAILED
		});
	});

	it('long-polls event.from over XML-RPC', async () => {
		const xml = xmlRpcTransport(sim.url);
		const session = await xml('session.login_with_password', ['root', PASSWORD]);
		const answer = (await xml('event.from', [session, ['pool'], '', 1])) as { events: unknown[]; token: string };
		expect(answer.events.length).toBe(1);
		expect(typeof answer.token).toBe('string');
		await xml('session.logout', [session]);
	});

	it('reads system.listMethods, which answers a bare array', async () => {
		const methods = await xmlRpcTransport(sim.url)('system.listMethods', []);
		expect(methods).toEqual(expect.arrayContaining(['VM.get_all_records', 'event.from']));
	});
});

describe('auto transport', () => {
	it('falls back to XML-RPC on a host without JSON-RPC, and the client works through it', async () => {
		await expect(jsonRpcTransport(xmlOnlyUrl)('system.listMethods', [])).rejects.toBeInstanceOf(UnsupportedTransportError);
		const client = new XapiClient({ address: xmlOnlyUrl, transport: (url) => autoTransport(url.toString()) });
		await client.login('root', PASSWORD);
		const hosts = await client.getAllRecords('host_metrics');
		expect(Object.values(hosts).every((m) => typeof m.memory_total === 'number')).toBe(true);
		await client.logout();
	});

	it('does not fall back when nobody answers', async () => {
		await expect(autoTransport(`http://127.0.0.9:${sim.port}`)('system.listMethods', [])).rejects.toBeInstanceOf(XapiConnectionError);
	});

	it('counts a gateway answering 503 as nobody answering, not as another protocol', async () => {
		const seen: string[] = [];
		const gateway = createServer((req, res) => {
			seen.push(req.url ?? '');
			res.writeHead(503, { 'content-type': 'text/html' }).end('<h1>Service unavailable</h1>');
		});
		await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
		try {
			const url = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
			await expect(autoTransport(url)('system.listMethods', [])).rejects.toBeInstanceOf(XapiConnectionError);
			expect(seen).toEqual(['/jsonrpc']);
		} finally {
			gateway.closeAllConnections();
			await new Promise((r) => gateway.close(r));
		}
	});
});

describe('call deadlines', () => {
	it('lets event.from wait for its own timeout on top of the usual allowance', () => {
		expect(callTimeoutMs('VM.get_all_records', [], 60_000)).toBe(60_000);
		expect(callTimeoutMs('event.from', ['s', ['vm'], '', 30], 60_000)).toBe(90_000);
		expect(callTimeoutMs('event.from', ['s', ['vm'], '', 30], undefined)).toBeUndefined();
	});
});
