/**
 * Shared helpers for the simulator's suites: start a pool over real HTTP, talk to it with the
 * independent `xmlrpc` package or raw JSON-RPC, drive its control endpoint, wait for state.
 */
import xmlrpc from 'xmlrpc';
import { startSimulatedPool, type RunningSimulatedPool, type StartSimOptions } from '../../../src/lib/xapi/sim/index';
import type { Ref, Snapshot } from '../../../src/lib/xapi/records';

export const PASSWORD = 'sim-test-password';

export function startSim(options: StartSimOptions = {}): Promise<RunningSimulatedPool> {
	return startSimulatedPool({ password: PASSWORD, authFailureDelayMs: 5, speed: 1000, ...options });
}

/** What the xmlrpc package hands back for an XAPI call: the Status struct itself. */
export type XmlRpcResult = { Status: 'Success'; Value: unknown } | { Status: 'Failure'; ErrorDescription: string[] };

export function xmlRpcClient(address: string, port: number, path = '/') {
	const client = xmlrpc.createClient({ host: address, port, path });
	return (method: string, params: unknown[]): Promise<unknown> =>
		new Promise((resolve, reject) => {
			client.methodCall(method, params, (error: unknown, value: unknown) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(value)));
		});
}

/** An XML-RPC call that must succeed: returns Value. */
export async function xmlOk(call: (m: string, p: unknown[]) => Promise<unknown>, method: string, params: unknown[]): Promise<unknown> {
	const result = (await call(method, params)) as XmlRpcResult;
	if (result.Status !== 'Success') throw new Error(`${method} failed: ${JSON.stringify(result.ErrorDescription)}`);
	return result.Value;
}

/** An XML-RPC call that must fail: returns ErrorDescription. */
export async function xmlFail(call: (m: string, p: unknown[]) => Promise<unknown>, method: string, params: unknown[]): Promise<string[]> {
	const result = (await call(method, params)) as XmlRpcResult;
	if (result.Status !== 'Failure') throw new Error(`${method} unexpectedly succeeded: ${JSON.stringify(result.Value)}`);
	return result.ErrorDescription;
}

export interface RawJsonResponse {
	status: number;
	contentType: string | null;
	body: Record<string, unknown>;
}

export async function rawJsonRpc(baseUrl: string, request: unknown): Promise<RawJsonResponse> {
	const response = await fetch(new URL('/jsonrpc', baseUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) });
	return { status: response.status, contentType: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
}

export async function control(sim: RunningSimulatedPool, path: string, body?: unknown): Promise<Record<string, unknown>> {
	const response = await fetch(`${sim.controlUrl}/control/${path}`, {
		method: path === 'state' ? 'GET' : 'POST',
		headers: { 'content-type': 'application/json' },
		body: path === 'state' ? undefined : JSON.stringify(body ?? {})
	});
	const json = (await response.json()) as Record<string, unknown>;
	if (!response.ok) throw new Error(`control ${path}: ${response.status} ${JSON.stringify(json)}`);
	return json;
}

/** Polls `check` (every 10 ms of real time) until it returns true; fails after `ms`. */
export async function waitFor(what: string, check: () => boolean, ms = 10_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!check()) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

export function refByName(snapshot: Snapshot, cls: 'VM' | 'host' | 'SR', name: string): Ref {
	const table = snapshot[cls] as Record<Ref, { name_label: string }>;
	const found = Object.entries(table).find(([, r]) => r.name_label === name);
	if (!found) throw new Error(`no ${cls} named ${name}`);
	return found[0];
}

export function messageNames(snapshot: Snapshot): string[] {
	return Object.values(snapshot.message)
		.sort((a, b) => a.timestamp.localeCompare(b.timestamp))
		.map((m) => m.name);
}
