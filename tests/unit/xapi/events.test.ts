import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XapiClient, type XapiClientOptions } from '../../../src/lib/xapi/client';
import { XapiCode } from '../../../src/lib/xapi/codes';
import { XapiError } from '../../../src/lib/xapi/errors';
import { normaliseEvents, watchEvents, xapiClassName, type PoolEvent, type WatchUpdate } from '../../../src/lib/xapi/events';
import type { Ref, XapiClassName } from '../../../src/lib/xapi/records';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';
import { jsonRpcTransport, xmlRpcTransport, type Transport } from '../../../src/lib/xapi/transport';

const PASSWORD = 'events-test-secret';
let sim: RunningSimulatedPool;
let admin: XapiClient;

beforeAll(async () => {
	sim = await startSimulatedPool({ port: 0, password: PASSWORD, authFailureDelayMs: 10, speed: 100 });
	admin = new XapiClient({ address: sim.address });
	await admin.login('root', PASSWORD);
});
afterAll(async () => {
	await admin?.logout().catch(() => undefined);
	await sim?.stop();
});

type Hook = (method: string, params: readonly unknown[], next: () => Promise<unknown>) => Promise<unknown>;

/** A client on the real pool; `hook` sees every wire call (to add a fault only a test can cause). */
function watcherClient(hook?: Hook, extra: Partial<XapiClientOptions> = {}): XapiClient {
	return new XapiClient({
		address: sim.address,
		credentials: () => ({ user: 'root', password: PASSWORD }),
		transport: (url): Transport => {
			const real = jsonRpcTransport(url.toString(), { timeoutMs: 10_000 });
			return (method, params, options) => (hook ? hook(method, params, () => real(method, params, options)) : real(method, params, options));
		},
		...extra
	});
}

/** Runs a watcher, keeping every update; `until` waits for one matching a test. */
function startWatching(client: XapiClient, classes: readonly XapiClassName[], opts: { onError?: (e: unknown) => void; handler?: (u: WatchUpdate) => void } = {}) {
	const updates: WatchUpdate[] = [];
	const controller = new AbortController();
	const done = watchEvents(
		client,
		classes,
		(update) => {
			updates.push(update);
			opts.handler?.(update);
		},
		{ signal: controller.signal, timeoutS: 1, retryDelayMs: 20, onError: opts.onError }
	);
	const until = async (test: (u: WatchUpdate) => boolean, what: string): Promise<WatchUpdate> => {
		for (let i = 0; i < 400; i++) {
			const found = updates.find(test);
			if (found) return found;
			await Promise.race([done, new Promise((r) => setTimeout(r, 10))]);
		}
		throw new Error(`no update: ${what}`);
	};
	const events = (): PoolEvent[] => updates.flatMap((u) => (u.kind === 'events' ? u.events : []));
	return { updates, events, until, done, stop: () => controller.abort() };
}

async function someVm(): Promise<Ref> {
	const vms = await admin.getAllRecords('VM');
	const ref = Object.entries(vms).find(([, vm]) => !vm.is_control_domain && !vm.is_a_template)?.[0];
	if (!ref) throw new Error('scenario has no VM');
	return ref;
}

const isModOf = (ref: Ref, test: (snapshot: Record<string, unknown>) => boolean) => (u: WatchUpdate) =>
	u.kind === 'events' && u.events.some((e) => e.ref === ref && e.operation === 'mod' && !!e.snapshot && test(e.snapshot as unknown as Record<string, unknown>));

describe('watchEvents', () => {
	it('delivers the full state, then changes under XAPI class names', async () => {
		const client = watcherClient();
		await client.login();
		const w = startWatching(client, ['VM', 'host', 'host_metrics', 'SR', 'PBD']);
		const state = await w.until((u) => u.kind === 'state', 'initial state');
		expect(state).toMatchObject({ kind: 'state', reason: 'initial' });
		if (state.kind !== 'state') throw new Error('unreachable');
		expect(Object.keys(state.records.VM ?? {}).sort()).toEqual(Object.keys(await admin.getAllRecords('VM')).sort());
		expect(Object.keys(state.records.PBD ?? {}).length).toBeGreaterThan(0);
		expect(state.records.pool).toBeUndefined();

		const vm = await someVm();
		await admin.call('VM.set_order', vm, 7);
		await w.until(isModOf(vm, (s) => s['order'] === 7), 'VM.order change');
		const sr = Object.keys(state.records.SR ?? {})[0] as Ref;
		const pbd = Object.keys(state.records.PBD ?? {})[0] as Ref;
		const metrics = Object.keys(state.records.host_metrics ?? {})[0] as Ref;
		await admin.call('event.inject', 'SR', sr);
		await admin.call('event.inject', 'PBD', pbd);
		await admin.call('event.inject', 'host_metrics', metrics);
		await w.until((u) => u.kind === 'events' && u.events.some((e) => e.ref === metrics), 'host_metrics event');
		const byRef = new Map(w.events().map((e) => [e.ref, e.class]));
		expect(byRef.get(vm)).toBe('VM');
		expect(byRef.get(sr)).toBe('SR');
		expect(byRef.get(pbd)).toBe('PBD');
		expect(byRef.get(metrics)).toBe('host_metrics');
		// Learnt from the host records, for failover.
		expect(new Set(client.memberAddresses)).toEqual(new Set(sim.pool.hostAddresses));
		w.stop();
		await w.done;
		await client.logout();
	});

	it('works the same over XML-RPC, int64 fields of event snapshots as numbers', async () => {
		const client = new XapiClient({ address: sim.address, transport: (url) => xmlRpcTransport(url.toString(), { timeoutMs: 10_000 }) });
		await client.login('root', PASSWORD);
		const w = startWatching(client, ['VM']);
		const state = await w.until((u) => u.kind === 'state', 'initial state');
		if (state.kind !== 'state') throw new Error('unreachable');
		expect(Object.values(state.records.VM ?? {}).every((vm) => typeof vm.memory_static_max === 'number')).toBe(true);
		const vm = await someVm();
		await admin.call('VM.set_order', vm, 9);
		await w.until(isModOf(vm, (s) => s['order'] === 9), 'VM.order change as a number');
		w.stop();
		await w.done;
		await client.logout();
	});

	it('takes its token before the full fetch: a change landing right after the fetch is still delivered', async () => {
		const vm = await someVm();
		let changed = false;
		const client = watcherClient(async (method, _params, next) => {
			const answer = await next();
			if (method === 'VM.get_all_records' && !changed) {
				changed = true;
				await admin.call('VM.set_start_delay', vm, 42);
			}
			return answer;
		});
		await client.login();
		const w = startWatching(client, ['VM']);
		const state = await w.until((u) => u.kind === 'state', 'state');
		if (state.kind !== 'state') throw new Error('unreachable');
		expect(state.records.VM?.[vm]?.start_delay).not.toBe(42);
		await w.until(isModOf(vm, (s) => s['start_delay'] === 42), 'the change made during the fetch');
		w.stop();
		await w.done;
		await client.logout();
	});

	it('after SESSION_INVALID logs in again and resyncs from a full fetch', async () => {
		const client = watcherClient();
		await client.login();
		const errors: unknown[] = [];
		const w = startWatching(client, ['VM'], { onError: (e) => errors.push(e) });
		await w.until((u) => u.kind === 'state', 'initial state');
		const first = client.sessionRef as string;
		await jsonRpcTransport(sim.url)('session.logout', [first]);
		await w.until((u) => u.kind === 'state' && u.reason === 'resync', 'resync after re-login');
		expect(client.sessionRef).not.toBe(first);
		expect(errors.some((e) => e instanceof XapiError && e.code === XapiCode.SESSION_INVALID)).toBe(true);
		const vm = await someVm();
		await admin.call('VM.set_order', vm, 3);
		await w.until(isModOf(vm, (s) => s['order'] === 3), 'a change after the resync');
		w.stop();
		await w.done;
		await client.logout();
	});

	it('after EVENTS_LOST resyncs from a full fetch', async () => {
		// The simulator never loses events; this one answer is made up on the way back.
		let lose = false;
		const client = watcherClient(async (method, _params, next) => {
			if (method === 'event.from' && lose) {
				lose = false;
				throw new XapiError(XapiCode.EVENTS_LOST, []);
			}
			return next();
		});
		await client.login();
		const w = startWatching(client, ['VM']);
		await w.until((u) => u.kind === 'state', 'initial state');
		lose = true;
		await w.until((u) => u.kind === 'state' && u.reason === 'resync', 'resync after EVENTS_LOST');
		const vm = await someVm();
		await admin.call('VM.set_order', vm, 4);
		await w.until(isModOf(vm, (s) => s['order'] === 4), 'a change after the resync');
		w.stop();
		await w.done;
		await client.logout();
	});

	it('after another error answer pauses and resyncs, without logging in again or failing over', async () => {
		// An error answer the simulator has no reason to give; made up on the way back, once.
		let fail = false;
		let changes = 0;
		const client = watcherClient(
			async (method, _params, next) => {
				if (method === 'event.from' && fail) {
					fail = false;
					throw new XapiError(XapiCode.INTERNAL_ERROR, ['database lock timeout']);
				}
				return next();
			},
			{ onMasterChange: () => changes++ }
		);
		await client.login();
		const session = client.sessionRef;
		const errors: unknown[] = [];
		const w = startWatching(client, ['VM'], { onError: (e) => errors.push(e) });
		await w.until((u) => u.kind === 'state', 'initial state');
		fail = true;
		await w.until((u) => u.kind === 'state' && u.reason === 'resync', 'resync after the error');
		expect(errors).toEqual([expect.objectContaining({ code: XapiCode.INTERNAL_ERROR })]);
		expect(client.sessionRef).toBe(session);
		expect(changes).toBe(0);
		w.stop();
		await w.done;
		await client.logout();
	});

	it('stops when aborted in the middle of a long poll', async () => {
		const client = watcherClient();
		await client.login();
		const controller = new AbortController();
		let states = 0;
		const done = watchEvents(client, ['pool'], (u) => void (u.kind === 'state' && states++), { signal: controller.signal, timeoutS: 60 });
		while (states === 0) await new Promise((r) => setTimeout(r, 10));
		controller.abort();
		await expect(done).resolves.toBeUndefined();
		await client.logout();
	});

	it('stops with the error when it cannot log in again', async () => {
		const client = new XapiClient({ address: sim.address });
		await client.login('root', PASSWORD);
		const w = startWatching(client, ['VM']);
		await w.until((u) => u.kind === 'state', 'initial state');
		await jsonRpcTransport(sim.url)('session.logout', [client.sessionRef]);
		await expect(w.done).rejects.toThrow(/credentials/);
	});

	it('stops with the error a handler throws', async () => {
		const client = watcherClient();
		await client.login();
		const w = startWatching(client, ['VM'], {
			handler: () => {
				throw new Error('handler bug');
			}
		});
		await expect(w.done).rejects.toThrow('handler bug');
		await client.logout();
	});
});

describe('event classes', () => {
	it('maps lower-case event classes to XAPI class names and drops unknown ones', () => {
		expect(xapiClassName('vm')).toBe('VM');
		expect(xapiClassName('vm_metrics')).toBe('VM_metrics');
		expect(xapiClassName('pbd')).toBe('PBD');
		expect(xapiClassName('host_metrics')).toBe('host_metrics');
		expect(xapiClassName('vtpm')).toBeUndefined();
		expect(
			normaliseEvents([
				{ class: 'sr', operation: 'del', ref: 'OpaqueRef:a' },
				{ class: 'vtpm', operation: 'add', ref: 'OpaqueRef:b', snapshot: {} }
			])
		).toEqual([{ class: 'SR', operation: 'del', ref: 'OpaqueRef:a', snapshot: undefined }]);
	});
});
