import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XapiClient } from '../../../src/lib/xapi/client';
import { XapiCode } from '../../../src/lib/xapi/codes';
import { XapiError } from '../../../src/lib/xapi/errors';
import type { Ref, SRRecord, VMRecord } from '../../../src/lib/xapi/records';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';
import { taskOutcome, waitForTask } from '../../../src/lib/xapi/tasks';
import { jsonRpcTransport, type Transport } from '../../../src/lib/xapi/transport';

const PASSWORD = 'tasks-test-secret';
let sim: RunningSimulatedPool;

beforeAll(async () => {
	// enable_ha takes 3 simulated seconds per host: a few dozen real milliseconds at this speed.
	sim = await startSimulatedPool({ port: 0, password: PASSWORD, authFailureDelayMs: 10, speed: 200 });
});
afterAll(async () => {
	await sim?.stop();
});

/** A client whose wire calls are listed in `methods` (the real transport does the work). */
async function recordingClient(): Promise<{ client: XapiClient; methods: string[] }> {
	const methods: string[] = [];
	const client = new XapiClient({
		address: sim.address,
		transport: (url): Transport => {
			const real = jsonRpcTransport(url.toString(), { timeoutMs: 10_000 });
			return (method, params, options) => {
				methods.push(method);
				return real(method, params, options);
			};
		}
	});
	await client.login('root', PASSWORD);
	return { client, methods };
}

function find<T>(records: Record<Ref, T>, test: (r: T) => boolean): Ref {
	const entry = Object.entries(records).find(([, r]) => test(r));
	if (!entry) throw new Error('fixture not found in the scenario');
	return entry[0];
}

describe('tasks', () => {
	it('callAsync enables HA, reporting progress up to 1, and destroys the finished task', async () => {
		const { client, methods } = await recordingClient();
		const srs = await client.getAllRecords('SR');
		const heartbeat = find<SRRecord>(srs, (sr) => sr.type === 'lvmoiscsi' && sr.shared);
		const progress: number[] = [];
		const result = await client.callAsyncWith({ onProgress: (p) => progress.push(p) }, 'pool.enable_ha', [heartbeat], {});
		expect(result).toBe('');
		expect(progress.at(-1)).toBe(1);
		expect(progress.some((p) => p > 0 && p < 1)).toBe(true);
		expect([...progress].sort((a, b) => a - b)).toEqual(progress);
		const pool = Object.values(await client.getAllRecords('pool'))[0];
		expect(pool?.ha_enabled).toBe(true);
		// Watched through events, not by polling; and tidied up afterwards.
		expect(methods).toContain('event.from');
		expect(methods.filter((m) => m === 'task.get_record').length).toBe(1);
		expect(methods).toContain('task.destroy');
		expect(Object.keys(await client.getAllRecords('task'))).toHaveLength(0);
		await client.call('pool.disable_ha');
		await client.logout();
	});

	it('resolves with the task result read from its XML-RPC value', async () => {
		const { client } = await recordingClient();
		const direct = await client.call('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', {});
		const viaTask = await client.callAsync('pool.ha_compute_hypothetical_max_host_failures_to_tolerate', {});
		expect(String(viaTask)).toBe(String(direct));
		await client.logout();
	});

	it('rejects with the XapiError of error_info, naming the task', async () => {
		const { client } = await recordingClient();
		const vms = await client.getAllRecords('VM');
		const running = find<VMRecord>(vms, (vm) => vm.power_state === 'Running' && !vm.is_control_domain);
		const task = await client.call<Ref>('Async.VM.start', running, false, false);
		const error = await waitForTask(client, task).then(
			() => undefined,
			(e: unknown) => e
		);
		expect(error).toBeInstanceOf(XapiError);
		expect((error as XapiError).code).toBe(XapiCode.VM_BAD_POWER_STATE);
		expect((error as XapiError).task).toBe(task);
		await client.call('task.destroy', task);
		await client.logout();
	});

	it('keeps waiting across a re-login when the session ends mid-task', async () => {
		const client = new XapiClient({ address: sim.address, credentials: () => ({ user: 'root', password: PASSWORD }) });
		await client.login();
		const srs = await client.getAllRecords('SR');
		const heartbeat = find<SRRecord>(srs, (sr) => sr.type === 'lvmoiscsi' && sr.shared);
		const first = client.sessionRef as string;
		let ended = false;
		await client.callAsyncWith(
			{
				onProgress: (p) => {
					if (p > 0 && !ended) {
						ended = true;
						void jsonRpcTransport(sim.url)('session.logout', [first]);
					}
				}
			},
			'pool.enable_ha',
			[heartbeat],
			{}
		);
		expect(ended).toBe(true);
		expect(client.sessionRef).not.toBe(first);
		expect(Object.values(await client.getAllRecords('pool'))[0]?.ha_enabled).toBe(true);
		await client.call('pool.disable_ha');
		await client.logout();
	});

	it('polls task.get_record when the pool has no event.from', async () => {
		// An older pool: event.inject answers MESSAGE_METHOD_UNKNOWN (the only fault faked here).
		const methods: string[] = [];
		const client = new XapiClient({
			address: sim.address,
			transport: (url): Transport => {
				const real = jsonRpcTransport(url.toString());
				return (method, params, options) => {
					methods.push(method);
					if (method === 'event.inject' || method === 'event.from') return Promise.reject(new XapiError(XapiCode.MESSAGE_METHOD_UNKNOWN, [method]));
					return real(method, params, options);
				};
			}
		});
		await client.login('root', PASSWORD);
		const progress: number[] = [];
		const srs = await client.getAllRecords('SR');
		const heartbeat = find<SRRecord>(srs, (sr) => sr.type === 'lvmoiscsi' && sr.shared);
		const task = await client.call<Ref>('Async.pool.enable_ha', [heartbeat], {});
		await waitForTask(client, task, { pollMs: 5, onProgress: (p) => progress.push(p) });
		expect(progress.at(-1)).toBe(1);
		expect(methods).not.toContain('event.from');
		expect(methods.filter((m) => m === 'task.get_record').length).toBeGreaterThan(1);
		await client.call('pool.disable_ha');
		await client.logout();
	});

	it('aborting stops the wait at once with the abort reason and asks the pool to cancel', async () => {
		const { client, methods } = await recordingClient();
		const srs = await client.getAllRecords('SR');
		const heartbeat = find<SRRecord>(srs, (sr) => sr.type === 'lvmoiscsi' && sr.shared);
		const controller = new AbortController();
		const reason = new Error('operator closed the wizard');
		const waiting = client.callAsyncWith(
			{
				signal: controller.signal,
				onProgress: (p) => {
					if (p > 0) controller.abort(reason);
				}
			},
			'pool.enable_ha',
			[heartbeat],
			{}
		);
		await expect(waiting).rejects.toBe(reason);
		expect(methods).toContain('task.cancel');
		await client.logout();
	});
});

describe('taskOutcome', () => {
	const base = { progress: 1, result: '', error_info: [] as string[] };
	it('maps each final status and leaves a running task undecided', () => {
		expect(taskOutcome({ ...base, status: 'pending', progress: 0.5 }, 'OpaqueRef:t')).toBeUndefined();
		expect(taskOutcome({ ...base, status: 'cancelling' }, 'OpaqueRef:t')).toBeUndefined();
		expect(taskOutcome({ ...base, status: 'success', result: '<value>OpaqueRef:vm</value>' }, 'OpaqueRef:t')).toEqual({ value: 'OpaqueRef:vm' });
		expect(() => taskOutcome({ ...base, status: 'cancelled' }, 'OpaqueRef:t')).toThrow(
			expect.objectContaining({ code: XapiCode.TASK_CANCELLED, task: 'OpaqueRef:t' })
		);
		expect(() => taskOutcome({ ...base, status: 'failure', error_info: ['HOST_OFFLINE', 'OpaqueRef:h'] }, 'OpaqueRef:t')).toThrow(
			expect.objectContaining({ code: XapiCode.HOST_OFFLINE, params: ['OpaqueRef:h'] })
		);
	});
});
