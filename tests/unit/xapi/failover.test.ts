/**
 * Master failover against the simulated pool's HA runtime: the master is powered off through
 * the control endpoint, its address stops listening (connection refused), and after the HA
 * timeout the survivors elect a new master and drop every session.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { XapiClient } from '../../../src/lib/xapi/client';
import { XapiCode } from '../../../src/lib/xapi/codes';
import { XapiConnectionError, XapiError } from '../../../src/lib/xapi/errors';
import { watchEvents, type WatchUpdate } from '../../../src/lib/xapi/events';
import type { PoolRecord, Ref, SRRecord } from '../../../src/lib/xapi/records';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';
import { jsonRpcTransport, type Transport } from '../../../src/lib/xapi/transport';

const PASSWORD = 'failover-test-secret';
let sim: RunningSimulatedPool | undefined;

afterEach(async () => {
	await sim?.stop();
	sim = undefined;
});

interface ControlState {
	master: { ref: string; address: string; reachable: boolean };
}

async function control(path: string, body?: unknown): Promise<ControlState> {
	if (!sim) throw new Error('no simulated pool');
	const response = await fetch(new URL(`/control/${path}`, sim.controlUrl), {
		method: body === undefined && path === 'state' ? 'GET' : 'POST',
		headers: { 'content-type': 'application/json' },
		body: body === undefined ? (path === 'state' ? undefined : '{}') : JSON.stringify(body)
	});
	if (!response.ok) throw new Error(`control ${path}: HTTP ${response.status} ${await response.text()}`);
	return (await response.json()) as ControlState;
}

/** A pool with HA on (so a dead master is replaced), and a client logged in on its master. */
async function haPoolAndClient(onMasterChange: (url: URL) => void, logins: { count: number } = { count: 0 }): Promise<XapiClient> {
	sim = await startSimulatedPool({ port: 0, password: PASSWORD, authFailureDelayMs: 10, speed: 100 });
	const client = new XapiClient({
		address: sim.address,
		credentials: () => {
			logins.count++;
			return { user: 'root', password: PASSWORD };
		},
		onMasterChange,
		probeTimeoutMs: 2_000,
		transport: (url): Transport => jsonRpcTransport(url.toString(), { timeoutMs: 5_000 })
	});
	await client.login();
	const srs = await client.getAllRecords('SR');
	const heartbeat = Object.entries(srs).find(([, sr]: [Ref, SRRecord]) => sr.type === 'lvmoiscsi' && sr.shared)?.[0];
	await client.callAsync('pool.enable_ha', [heartbeat], {});
	return client;
}

async function poolRecord(client: XapiClient): Promise<PoolRecord> {
	const pool = Object.values(await client.getAllRecords('pool'))[0];
	if (!pool) throw new Error('no pool record');
	return pool;
}

describe('master failover', () => {
	it('after the master dies and a new one is elected, the next call reconnects to the new master', async () => {
		const changes: string[] = [];
		const client = await haPoolAndClient((url) => changes.push(url.hostname));
		const oldMaster = client.baseUrl.hostname;
		const vm = Object.entries(await client.getAllRecords('VM')).find(([, r]) => !r.is_control_domain)?.[0];
		await control('master/fail');
		const state = await control('clock', { advanceSeconds: 61 });
		expect(state.master.address).not.toBe(oldMaster);

		// The first call after the failure is a write: the refused connection proves it never
		// reached the dead master, so it is sent again to the new one.
		await client.call('VM.set_order', vm, 2);
		expect(client.baseUrl.hostname).toBe(state.master.address);
		expect(changes).toEqual([state.master.address]);
		expect(await client.call('VM.get_order', vm)).toBe(2);
		expect((await poolRecord(client)).master).toBe(state.master.ref);
		// Its host record remains, so the dead master stays a candidate should it come back.
		expect(client.memberAddresses).toContain(oldMaster);
		await client.logout();
	});

	it('while no master is elected yet, reconnecting fails with the connection error, then succeeds', async () => {
		const changes: string[] = [];
		const client = await haPoolAndClient((url) => changes.push(url.hostname));
		await control('master/fail');
		// The survivors still name the dead master (HOST_IS_SLAVE), which refuses connections.
		const error = await client.getAllRecords('pool').then(
			() => undefined,
			(e: unknown) => e
		);
		expect(error).toBeInstanceOf(XapiConnectionError);
		expect(changes).toEqual([]);
		const state = await control('clock', { advanceSeconds: 61 });
		expect((await poolRecord(client)).master).toBe(state.master.ref);
		expect(changes).toEqual([state.master.address]);
		await client.logout();
	});

	it('an XAPI error answer never sends the client looking for another master', async () => {
		const changes: string[] = [];
		const logins = { count: 0 };
		const client = await haPoolAndClient((url) => changes.push(url.hostname), logins);
		const before = logins.count;
		await expect(client.call('pool.no_such_call')).rejects.toMatchObject({ code: XapiCode.MESSAGE_METHOD_UNKNOWN });
		await expect(client.call('VM.set_order', 'OpaqueRef:nope', 1)).rejects.toBeInstanceOf(XapiError);
		expect(logins.count).toBe(before);
		expect(changes).toEqual([]);
		await client.logout();
	});

	it('the event watcher rides out the master failure and resyncs from the new master', async () => {
		const changes: string[] = [];
		const client = await haPoolAndClient((url) => changes.push(url.hostname));
		const updates: WatchUpdate[] = [];
		const errors: unknown[] = [];
		const controller = new AbortController();
		const done = watchEvents(client, ['pool', 'host'], (u) => void updates.push(u), {
			signal: controller.signal,
			timeoutS: 1,
			retryDelayMs: 20,
			maxRetryDelayMs: 100,
			onError: (e) => errors.push(e)
		});
		const waitFor = async (test: () => boolean, what: string) => {
			for (let i = 0; i < 500 && !test(); i++) await new Promise((r) => setTimeout(r, 10));
			if (!test()) throw new Error(`timed out waiting for ${what}`);
		};
		await waitFor(() => updates.some((u) => u.kind === 'state'), 'initial state');
		await control('master/fail');
		await waitFor(() => errors.some((e) => e instanceof XapiConnectionError), 'the watcher to notice');
		const state = await control('clock', { advanceSeconds: 61 });
		await waitFor(
			() => updates.some((u) => u.kind === 'state' && u.reason === 'resync' && Object.values(u.records.pool ?? {})[0]?.master === state.master.ref),
			'a resync naming the new master'
		);
		expect(changes).toEqual([state.master.address]);
		controller.abort();
		await done;
		await client.logout();
	});
});
