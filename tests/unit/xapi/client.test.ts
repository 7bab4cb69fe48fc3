import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadOnlyClientError, XapiClient } from '../../../src/lib/xapi/client';
import { XapiCode } from '../../../src/lib/xapi/codes';
import { XapiConnectionError, XapiError } from '../../../src/lib/xapi/errors';
import { jsonRpcTransport } from '../../../src/lib/xapi/transport';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';

const PASSWORD = 'client-test-secret';
let sim: RunningSimulatedPool;

beforeAll(async () => {
	sim = await startSimulatedPool({ port: 0, password: PASSWORD, authFailureDelayMs: 10 });
});
afterAll(async () => {
	await sim?.stop();
});

/** A client that logs in through the credentials callback, counting how often it was asked. */
function countingClient(): { client: XapiClient; asked: () => number } {
	let asked = 0;
	const client = new XapiClient({
		address: sim.address,
		credentials: () => {
			asked++;
			return { user: 'root', password: PASSWORD };
		}
	});
	return { client, asked: () => asked };
}

/** Ends a session the way the pool would forget it: session.logout over the wire, not via the client. */
async function endSessionBehindClientsBack(session: string): Promise<void> {
	await jsonRpcTransport(sim.url)('session.logout', [session]);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
	try {
		await promise;
	} catch (e) {
		return e;
	}
	throw new Error('expected a rejection');
}

describe('XapiClient login', () => {
	it('logs in on the master and reads records', async () => {
		const client = new XapiClient({ address: sim.address });
		await client.login('root', PASSWORD);
		expect(client.loggedIn).toBe(true);
		expect(client.sessionRef).toMatch(/^OpaqueRef:/);
		const pools = await client.getAllRecords('pool');
		expect(Object.keys(pools)).toHaveLength(1);
		await client.logout();
	});

	it('rejects a bad password with SESSION_AUTHENTICATION_FAILED and no session', async () => {
		const client = new XapiClient({ address: sim.address });
		const error = await rejection(client.login('root', 'wrong'));
		expect(error).toBeInstanceOf(XapiError);
		expect((error as XapiError).code).toBe(XapiCode.SESSION_AUTHENTICATION_FAILED);
		expect((error as XapiError).call).toBe('session.login_with_password');
		expect(JSON.stringify((error as XapiError).params)).not.toContain('wrong');
		expect(client.loggedIn).toBe(false);
	});

	it('follows HOST_IS_SLAVE from a member to the master', async () => {
		const member = sim.pool.hostAddresses[1];
		expect(member).toBeDefined();
		const changes: string[] = [];
		const client = new XapiClient({ address: `${member}:${sim.port}`, onMasterChange: (url) => changes.push(url.host) });
		await client.login('root', PASSWORD);
		expect(client.baseUrl.host).toBe(new URL(sim.url).host);
		expect(changes).toEqual([new URL(sim.url).host]);
		await client.logout();
	});

	it('when the given address does not answer, logs in through a remembered member that names the master', async () => {
		// 127.0.0.9 is no pool host: nothing listens there, the connection is refused, as with
		// an old master that died since the member list was saved.
		const member = sim.pool.hostAddresses[1] as string;
		const changes: string[] = [];
		const client = new XapiClient({
			address: `127.0.0.9:${sim.port}`,
			memberAddresses: [member],
			onMasterChange: (url) => changes.push(url.host)
		});
		await client.login('root', PASSWORD);
		expect(client.baseUrl.host).toBe(new URL(sim.url).host);
		expect(changes).toEqual([new URL(sim.url).host]);
		// The dead address is dropped once the pool's own member list is known.
		expect(client.memberAddresses).not.toContain('127.0.0.9');
		await client.logout();
	});

	it('without other members, an address that does not answer is a XapiConnectionError', async () => {
		const client = new XapiClient({ address: `127.0.0.9:${sim.port}` });
		const error = await rejection(client.login('root', PASSWORD));
		expect(error).toBeInstanceOf(XapiConnectionError);
		expect((error as XapiConnectionError).notDelivered).toBe(true);
	});

	it('learns every member address after login', async () => {
		const client = new XapiClient({ address: sim.address });
		await client.login('root', PASSWORD);
		expect(new Set(client.memberAddresses)).toEqual(new Set(sim.pool.hostAddresses));
		await client.logout();
	});

	it('logs in through the credentials callback when called without arguments', async () => {
		const { client, asked } = countingClient();
		await client.login();
		expect(asked()).toBe(1);
		expect(client.loggedIn).toBe(true);
		await client.logout();
	});

	it('refuses login() without arguments when it has no credentials callback', async () => {
		const client = new XapiClient({ address: sim.address });
		await expect(client.login()).rejects.toThrow(/credentials/);
	});
});

describe('XapiClient calls', () => {
	it('reports an unknown method as MESSAGE_METHOD_UNKNOWN naming the call', async () => {
		const client = new XapiClient({ address: sim.address });
		await client.login('root', PASSWORD);
		const error = await rejection(client.call('VM.no_such_method'));
		expect(error).toBeInstanceOf(XapiError);
		expect((error as XapiError).code).toBe(XapiCode.MESSAGE_METHOD_UNKNOWN);
		expect((error as XapiError).call).toBe('VM.no_such_method');
		expect((error as XapiError).url).toBe(new URL(sim.url).origin);
		await client.logout();
	});

	it('a second login closes the session it replaces', async () => {
		const client = new XapiClient({ address: sim.address });
		await client.login('root', PASSWORD);
		const first = client.sessionRef as string;
		await client.login('root', PASSWORD);
		expect(client.sessionRef).not.toBe(first);
		await expect(jsonRpcTransport(sim.url)('pool.get_all_records', [first])).rejects.toMatchObject({ code: XapiCode.SESSION_INVALID });
		await client.logout();
	});

	it('logout invalidates the session on the pool', async () => {
		const client = new XapiClient({ address: sim.address });
		await client.login('root', PASSWORD);
		const session = client.sessionRef as string;
		await client.logout();
		expect(client.loggedIn).toBe(false);
		await expect(client.call('pool.get_all_records')).rejects.toMatchObject({ code: XapiCode.SESSION_INVALID });
		// The pool itself no longer knows the ref, not just the client.
		await expect(jsonRpcTransport(sim.url)('pool.get_all_records', [session])).rejects.toMatchObject({ code: XapiCode.SESSION_INVALID });
		await client.logout(); // twice is fine
	});

	it('without a credentials callback, SESSION_INVALID reaches the caller, its session ref redacted', async () => {
		const client = new XapiClient({ address: sim.address });
		await client.login('root', PASSWORD);
		const session = client.sessionRef as string;
		await endSessionBehindClientsBack(session);
		const error = await rejection(client.call('pool.get_all_records'));
		expect(error).toMatchObject({ code: XapiCode.SESSION_INVALID });
		expect(String((error as Error).message)).not.toContain(session);
		expect((error as XapiError).params).not.toContain(session);
	});

	it('logs in again once on SESSION_INVALID and retries the call', async () => {
		const { client, asked } = countingClient();
		await client.login();
		const first = client.sessionRef as string;
		await endSessionBehindClientsBack(first);
		const hosts = await client.getAllRecords('host');
		expect(Object.keys(hosts).length).toBe(sim.pool.hostAddresses.length);
		expect(client.sessionRef).not.toBe(first);
		expect(asked()).toBe(2);
		await client.logout();
	});

	it('concurrent calls failing with SESSION_INVALID share one re-login', async () => {
		const { client, asked } = countingClient();
		await client.login();
		await endSessionBehindClientsBack(client.sessionRef as string);
		const results = await Promise.all([client.getAllRecords('host'), client.getAllRecords('VM'), client.getAllRecords('SR')]);
		expect(results.every((r) => Object.keys(r).length > 0)).toBe(true);
		expect(asked()).toBe(2);
		await client.logout();
	});

	it('a re-login refused by the pool surfaces SESSION_AUTHENTICATION_FAILED', async () => {
		let password = PASSWORD;
		const client = new XapiClient({ address: sim.address, credentials: () => ({ user: 'root', password }) });
		await client.login();
		await endSessionBehindClientsBack(client.sessionRef as string);
		password = 'changed-meanwhile';
		await expect(client.call('pool.get_all_records')).rejects.toMatchObject({ code: XapiCode.SESSION_AUTHENTICATION_FAILED });
	});

	it('a read-only client refuses writes before sending them, but reads and computes what-ifs', async () => {
		const client = new XapiClient({ address: sim.address, readOnly: true });
		await client.login('root', PASSWORD);
		const vm = Object.keys(await client.getAllRecords('VM'))[0];
		const before = await client.call('VM.get_ha_restart_priority', vm);
		const error = await rejection(client.call('VM.set_ha_restart_priority', vm, before === 'restart' ? '' : 'restart'));
		expect(error).toBeInstanceOf(ReadOnlyClientError);
		expect((error as ReadOnlyClientError).call).toBe('VM.set_ha_restart_priority');
		await expect(client.callAsync('pool.enable_ha', [], {})).rejects.toBeInstanceOf(ReadOnlyClientError);
		expect(await client.call('VM.get_ha_restart_priority', vm)).toBe(before);
		await client.callAsync('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', { [vm as string]: 'restart' });
		await client.logout();
	});

	it('an aborted call rejects with the abort reason and does not fail over', async () => {
		let changes = 0;
		const client = new XapiClient({
			address: sim.address,
			credentials: () => ({ user: 'root', password: PASSWORD }),
			onMasterChange: () => changes++
		});
		await client.login();
		const controller = new AbortController();
		const reason = new Error('user went away');
		const pending = client.callWith({ signal: controller.signal }, 'event.from', ['pool'], '', 5);
		controller.abort(reason);
		await expect(pending).rejects.toBe(reason);
		expect(changes).toBe(0);
		await client.logout();
	});
});
