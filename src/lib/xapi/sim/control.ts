/**
 * The control endpoint: fault injection and clock control for tests and demos (JSON over
 * HTTP, loopback only). Documented in docs/simulator.md; never part of XAPI.
 *
 *   GET  /control/state
 *   POST /control/hosts/<name|ref|uuid|address>/fail | /recover | /isolate
 *   POST /control/master/fail
 *   POST /control/statefile/break | /repair
 *   POST /control/clock            {"speed": 600} and/or {"advanceSeconds": 60}
 *   POST /control/settle           waits until pending HA restarts have run
 *   POST /control/latency          {"ms": 800}: every XAPI answer waits that long (0 to stop)
 *   POST /control/reset            back to the scenario's initial state (sessions kept)
 */
import type { ServerResponse } from 'node:http';
import * as v from 'valibot';
import type { Ref } from '../records';
import type { SimulatedPool } from './pool';

export interface ControlRequest {
	method: string;
	path: string;
	body: string;
	/** The host endpoint the request came in on, or null for the dedicated control listener. */
	via: string | null;
}

const LatencyBody = v.strictObject({ ms: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(120_000)) });

const ClockBody = v.strictObject({
	speed: v.optional(v.pipe(v.number(), v.minValue(0.001), v.maxValue(1_000_000))),
	advanceSeconds: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(86_400 * 365)))
});

export class ControlError extends Error {
	constructor(
		readonly status: number,
		message: string
	) {
		super(message);
	}
}

function send(res: ServerResponse, status: number, body: unknown): void {
	const text = JSON.stringify(body);
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
	res.end(text);
}

/** A host named by ref, uuid, name_label or address. */
export function resolveHost(pool: SimulatedPool, id: string): Ref {
	const snap = pool.snapshot;
	if (snap.host[id]) return id;
	for (const [ref, host] of Object.entries(snap.host)) {
		if (host.uuid === id || host.name_label === id || host.address === id || host.hostname === id) return ref;
	}
	throw new ControlError(404, `no host "${id}"; known: ${Object.values(snap.host).map((h) => h.name_label).join(', ')}`);
}

export function controlState(pool: SimulatedPool): Record<string, unknown> {
	const record = pool.poolRecord;
	return {
		scenario: pool.scenarioName,
		latencyMs: pool.responseDelayMs,
		clock: { speed: pool.clock.speed, now: pool.clock.isoNow(), pendingTimers: pool.clock.pendingTimers() },
		master: { ref: pool.masterRef, address: pool.masterAddress, reachable: pool.runtime.masterReachable },
		ha: {
			enabled: record.ha_enabled,
			timeoutSeconds: pool.runtime.timeoutSeconds,
			statefileOk: pool.runtime.statefileOk,
			hostFailuresToTolerate: record.ha_host_failures_to_tolerate,
			planExistsFor: record.ha_plan_exists_for,
			overcommitted: record.ha_overcommitted
		},
		hosts: pool.runtime.describe()
	};
}

function parseJson(body: string): unknown {
	if (body.trim() === '') return {};
	try {
		return JSON.parse(body) as unknown;
	} catch {
		throw new ControlError(400, 'request body is not valid JSON');
	}
}

/** Applies one control request; returns the HTTP status and body. */
export async function runControl(pool: SimulatedPool, req: ControlRequest): Promise<unknown> {
	const parts = req.path.split('/').filter((p) => p !== '').map(decodeURIComponent);
	// parts[0] === 'control'
	const [, what, id, action] = parts;
	if (req.method === 'GET' && what === 'state' && parts.length === 2) return controlState(pool);
	if (req.method !== 'POST') throw new ControlError(405, `use POST for ${req.path}`);
	const rt = pool.runtime;
	if (what === 'hosts' && id !== undefined && parts.length === 4) {
		const host = resolveHost(pool, id);
		if (action === 'fail') rt.failHost(host);
		else if (action === 'recover') rt.recoverHost(host);
		else if (action === 'isolate') rt.isolateHost(host);
		else throw new ControlError(404, `unknown host action "${action}"; use fail, recover or isolate`);
	} else if (what === 'master' && id === 'fail' && parts.length === 3) {
		rt.failMaster();
	} else if (what === 'statefile' && parts.length === 3) {
		if (id === 'break') rt.breakStatefile();
		else if (id === 'repair') rt.repairStatefile();
		else throw new ControlError(404, `unknown statefile action "${id}"; use break or repair`);
	} else if (what === 'clock' && parts.length === 2) {
		const parsed = v.safeParse(ClockBody, parseJson(req.body));
		if (!parsed.success) throw new ControlError(400, `bad clock body: ${parsed.issues.map((i) => i.message).join('; ')}`);
		if (parsed.output.speed !== undefined) pool.clock.setSpeed(parsed.output.speed);
		if (parsed.output.advanceSeconds !== undefined) pool.clock.advance(parsed.output.advanceSeconds);
	} else if (what === 'latency' && parts.length === 2) {
		const parsed = v.safeParse(LatencyBody, parseJson(req.body));
		if (!parsed.success) throw new ControlError(400, `bad latency body: ${parsed.issues.map((i) => i.message).join('; ')} (want {"ms": 0..120000})`);
		pool.responseDelayMs = parsed.output.ms;
	} else if (what === 'reset' && parts.length === 2) {
		pool.reset();
	} else if (what === 'settle' && parts.length === 2) {
		await rt.settled();
	} else {
		throw new ControlError(404, `unknown control path ${req.path}`);
	}
	return controlState(pool);
}

export async function handleControl(pool: SimulatedPool, req: ControlRequest, res: ServerResponse): Promise<void> {
	try {
		const state = await runControl(pool, req);
		// Answer once listeners have opened or closed, unless this very endpoint is going away.
		if (req.via === null || pool.runtime.endpointUp(req.via)) await pool.endpointsSettled();
		send(res, 200, state);
	} catch (e) {
		if (e instanceof ControlError) send(res, e.status, { error: e.message });
		else send(res, 500, { error: e instanceof Error ? e.message : String(e) });
	}
}
