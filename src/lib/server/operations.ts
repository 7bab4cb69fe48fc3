/**
 * The allow-list of changes Haven makes to a pool. Nothing else reaches XAPI on a user's
 * behalf: each named operation has a minimum role (read from the pool at login, never from the
 * browser), a valibot schema for its input, checks against the live pool made before the first
 * change, and the XAPI calls it makes, in order, as pool tasks (`Async.*`).
 *
 * A run is a job: the request is validated and checked synchronously (4xx naming what is
 * wrong, nothing changed), then the steps run in the background while the page polls the
 * job. A failure stops the run; the job then says which steps were applied, which one failed
 * with the pool's code, and which were not run. Every run is in the audit log.
 */
import { randomBytes } from 'node:crypto';
import * as v from 'valibot';
import { vmAgility } from '$lib/planner/agility';
import { parseSnapshot } from '$lib/planner/parse';
import { toolstackMaxFailuresToTolerate } from '$lib/planner/toolstack';
import {
	changeSteps,
	configurableVms,
	currentConfiguration,
	describeSetting,
	describeStep,
	poolOf,
	prerequisites,
	settingDifferences,
	type ChangeStep,
	type CurrentConfiguration,
	type VmSetting
} from '$lib/ha/configuration';
import { describeRefusal, heartbeatSrOptions } from '$lib/ha/heartbeat-sr';
import type { JobView, OperationName } from '$lib/ha/jobs';
import { XapiCode } from '$lib/xapi/codes';
import { describeXapiError } from '$lib/xapi/describe';
import { XapiConnectionError, XapiError } from '$lib/xapi/errors';
import type { XapiClient } from '$lib/xapi/client';
import { waitForTask } from '$lib/xapi/tasks';
import type { Ref, Snapshot } from '$lib/xapi/records';
import { appHistory } from './app-history';
import { log } from './log';
import { fetchPlanningSnapshot } from './pool-data';
import type { HavenRole } from './roles';
import type { SessionView } from './sessions';

/**
 * Bodies larger than this are refused unread. The wizard sends the baseline of every VM
 * (~85 bytes each) and only the VMs it changes; adapter-node's own BODY_SIZE_LIMIT (512 KiB by
 * default) applies first, which fits about 6,000 VMs.
 */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_VMS = 20_000;
/** The most hosts a pool can have, so the most failures one could ask to tolerate. */
const MAX_NTOL = 64;

const ROLE_RANK: Record<HavenRole, number> = { 'read-only': 0, 'vm-operator': 1, 'pool-operator': 2, 'pool-admin': 3 };

// ---------------------------------------------------------------- input schemas

const refSchema = v.pipe(v.string('must be a string'), v.regex(/^OpaqueRef:[0-9A-Za-z-]{1,64}$/, 'must be an object reference (OpaqueRef:…)'));
const intIn = (min: number, max: number) =>
	v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));

const vmSettingSchema = v.strictObject({
	vm: refSchema,
	priority: v.picklist(['restart', 'best-effort', ''], 'must be "restart", "best-effort" or "" (do not restart)'),
	order: intIn(0, 10_000),
	startDelay: intIn(0, 86_400)
});
const vmListSchema = v.pipe(v.array(vmSettingSchema, 'must be a list of VM settings'), v.maxLength(MAX_VMS, `must list at most ${MAX_VMS} VMs`));

/** What the page showed when the user started: the server compares it with the pool now. */
const baselineSchema = v.strictObject({
	haEnabled: v.boolean('must be true or false'),
	ntol: intIn(0, MAX_NTOL),
	vms: vmListSchema
});

const enableSchema = v.strictObject({
	sr: refSchema,
	ntol: intIn(0, MAX_NTOL),
	timeout: v.optional(intIn(10, 3600)),
	vms: vmListSchema,
	baseline: baselineSchema,
	confirmChanged: v.optional(v.boolean('must be true or false'), false)
});
const reconfigureSchema = v.strictObject({
	ntol: intIn(0, MAX_NTOL),
	vms: vmListSchema,
	baseline: baselineSchema,
	confirmChanged: v.optional(v.boolean('must be true or false'), false)
});
/** Puts restart priorities and tolerance back (after a change that failed part-way), HA on or off. */
const restoreSchema = v.strictObject({
	ntol: intIn(0, MAX_NTOL),
	vms: vmListSchema
});
const disableSchema = v.strictObject({
	confirm: v.literal(true, 'must be true: turning HA off needs confirmation')
});

export type EnableInput = v.InferOutput<typeof enableSchema>;
export type ReconfigureInput = v.InferOutput<typeof reconfigureSchema>;
export type VmSettingInput = v.InferOutput<typeof vmSettingSchema>;

// ---------------------------------------------------------------- errors and reports

/** A refusal before anything was changed: HTTP status, a code the page branches on, the field. */
export class OperationRefused extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly field?: string,
		readonly details?: unknown
	) {
		super(message);
		this.name = 'OperationRefused';
	}
	toJSON() {
		return { code: this.code, message: this.message, field: this.field, details: this.details };
	}
}

interface Job extends JobView {
	owner: string;
}

// ---------------------------------------------------------------- pool checks

interface PoolState {
	snapshot: Snapshot;
	poolRef: Ref;
	current: CurrentConfiguration;
	names: Record<Ref, string>;
}

async function readPool(client: XapiClient): Promise<PoolState> {
	const parsed = parseSnapshot(await fetchPlanningSnapshot(client));
	if (!parsed.ok) throw new Error(`the pool answered records Haven cannot read: ${parsed.issues[0]?.path ?? ''} ${parsed.issues[0]?.message ?? ''}`);
	const snapshot = parsed.snapshot;
	const pool = poolOf(snapshot);
	if (!pool) throw new Error('the pool has no pool record');
	return {
		snapshot,
		poolRef: pool[0],
		current: currentConfiguration(snapshot),
		names: Object.fromEntries(configurableVms(snapshot).map((r) => [r.vm, r.name]))
	};
}

function settingsMap(list: VmSettingInput[], field: string, state: PoolState): Record<Ref, VmSetting> {
	const out: Record<Ref, VmSetting> = {};
	list.forEach((s, i) => {
		if (!(s.vm in state.current.vms)) throw new OperationRefused(400, 'UNKNOWN_REF', `${field}[${i}].vm: the pool has no such VM (${s.vm})`, `${field}[${i}].vm`);
		if (s.vm in out) throw new OperationRefused(400, 'DUPLICATE_VM', `${field}[${i}].vm: ${state.names[s.vm]} is listed twice`, `${field}[${i}].vm`);
		out[s.vm] = { priority: s.priority, order: s.order, startDelay: s.startDelay };
	});
	return out;
}

/** Refuses with 409 POOL_CHANGED when the pool no longer is what the user saw (unless confirmed). */
function checkBaseline(state: PoolState, baseline: EnableInput['baseline'], confirmed: boolean): void {
	const differences: { what: string; shown: string; now: string }[] = [];
	// A VM deleted since is a change of the pool, not a bad request.
	const gone = baseline.vms.filter((s) => !(s.vm in state.current.vms));
	for (const s of gone) differences.push({ what: s.vm, shown: describeSetting(s), now: 'no longer in the pool' });
	const shown = settingsMap(
		baseline.vms.filter((s) => s.vm in state.current.vms),
		'baseline.vms',
		state
	);
	if (baseline.haEnabled !== state.current.haEnabled)
		differences.push({ what: 'HA', shown: baseline.haEnabled ? 'on' : 'off', now: state.current.haEnabled ? 'on' : 'off' });
	if (baseline.ntol !== state.current.ntol) differences.push({ what: 'Host failures to tolerate', shown: String(baseline.ntol), now: String(state.current.ntol) });
	const nowShown = Object.fromEntries(Object.keys(shown).map((vm) => [vm, state.current.vms[vm] as VmSetting]));
	for (const vm of settingDifferences(shown, nowShown)) {
		differences.push({ what: state.names[vm] ?? vm, shown: describeSetting(shown[vm] as VmSetting), now: describeSetting(state.current.vms[vm] as VmSetting) });
	}
	const unseen = Object.keys(state.current.vms).filter((vm) => !(vm in shown));
	for (const vm of unseen) differences.push({ what: state.names[vm] ?? vm, shown: 'not listed', now: `${describeSetting(state.current.vms[vm] as VmSetting)} (new VM)` });
	// Never applied silently: HA switched on or off meanwhile changes which operation applies.
	if (differences.length > 0 && (!confirmed || baseline.haEnabled !== state.current.haEnabled)) {
		throw new OperationRefused(409, 'POOL_CHANGED', 'The pool changed since the wizard read it; review the differences and confirm to apply anyway.', 'baseline', { differences });
	}
}

function checkPriorities(state: PoolState, list: VmSettingInput[]): void {
	list.forEach((s, i) => {
		if (s.priority !== 'restart') return;
		const agility = vmAgility(state.snapshot, s.vm);
		if (!agility.agile) {
			throw new OperationRefused(
				409,
				XapiCode.VM_NOT_AGILE,
				`vms[${i}].priority: ${state.names[s.vm]} cannot be protected: ${describeXapiError(agility.code, agility.params)}`,
				`vms[${i}].priority`,
				{ vm: s.vm, code: agility.code }
			);
		}
	});
}

function checkTolerance(state: PoolState, wanted: Record<Ref, VmSetting>, ntol: number): void {
	const all: Record<Ref, VmSetting> = { ...state.current.vms, ...wanted };
	const priorities = Object.fromEntries(Object.entries(all).map(([vm, s]) => [vm, { priority: s.priority, order: s.order }]));
	// What the pool itself computes (and enforces while HA is on), not Haven's exact search.
	const max = toolstackMaxFailuresToTolerate(state.snapshot, { priorities, prioritiesReplaceAll: true });
	if (ntol > max) {
		throw new OperationRefused(
			409,
			XapiCode.HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN,
			`ntol: with these priorities the pool can tolerate at most ${max} host failure${max === 1 ? '' : 's'}, not ${ntol}.`,
			'ntol',
			{ max }
		);
	}
}

function checkHostsAndLicence(state: PoolState): void {
	for (const p of prerequisites(state.snapshot)) {
		if (p.ok || p.id === 'heartbeat-sr') continue;
		throw new OperationRefused(409, p.id === 'licence' ? XapiCode.LICENCE_RESTRICTION : XapiCode.HOST_OFFLINE, p.text);
	}
}

/** Asks the pool itself whether the SR can hold the statefile (no change is made). */
async function assertPoolAcceptsSr(client: XapiClient, sr: Ref): Promise<void> {
	try {
		await client.callAsync('SR.assert_can_host_ha_statefile', sr);
	} catch (e) {
		if (e instanceof XapiError) throw new OperationRefused(409, e.code, `sr: ${describeXapiError(e.code, e.params)}`, 'sr');
		throw e;
	}
}

// ---------------------------------------------------------------- steps as XAPI calls

interface PlannedStep {
	label: string;
	call: string;
	args: unknown[];
}

function toCall(step: ChangeStep, poolRef: Ref): PlannedStep {
	const label = describeStep(step);
	switch (step.kind) {
		case 'priority':
			return { label, call: 'VM.set_ha_restart_priority', args: [step.vm, step.to] };
		case 'order':
			return { label, call: 'VM.set_order', args: [step.vm, step.to] };
		case 'start-delay':
			return { label, call: 'VM.set_start_delay', args: [step.vm, step.to] };
		case 'ntol':
			return { label, call: 'pool.set_ha_host_failures_to_tolerate', args: [poolRef, step.to] };
		case 'enable':
			return { label, call: 'pool.enable_ha', args: [[step.sr], step.timeout ? { timeout: String(step.timeout) } : {}] };
		case 'disable':
			return { label, call: 'pool.disable_ha', args: [] };
	}
}

// ---------------------------------------------------------------- the registry

export interface Prepared {
	steps: PlannedStep[];
	/** What the audit log keeps of the request (refs named). */
	summary: unknown;
}

interface OperationDef<S extends v.GenericSchema> {
	minRole: HavenRole;
	schema: S;
	/** Validates against the live pool and plans the calls; throws OperationRefused. */
	prepare(client: XapiClient, input: v.InferOutput<S>): Promise<Prepared>;
}

const define = <S extends v.GenericSchema>(def: OperationDef<S>) => def;

export const OPERATIONS: Record<OperationName, OperationDef<v.GenericSchema>> = {
	'ha.enable': define({
		minRole: 'pool-operator',
		schema: enableSchema,
		async prepare(client, input) {
			const state = await readPool(client);
			if (state.current.haEnabled) throw new OperationRefused(409, XapiCode.HA_IS_ENABLED, 'HA is already on: change its settings or turn it off instead.');
			checkBaseline(state, input.baseline, input.confirmChanged);
			checkHostsAndLicence(state);
			const sr = heartbeatSrOptions(state.snapshot).find((o) => o.ref === input.sr);
			if (!sr) throw new OperationRefused(400, 'UNKNOWN_REF', `sr: the pool has no such SR (${input.sr})`, 'sr');
			if (!sr.qualifies) throw new OperationRefused(409, 'SR_NOT_QUALIFIED', `sr: ${sr.name} cannot hold the heartbeat: ${sr.refusals.map(describeRefusal).join(' ')}`, 'sr');
			const wanted = settingsMap(input.vms, 'vms', state);
			checkPriorities(state, input.vms);
			checkTolerance(state, wanted, input.ntol);
			await assertPoolAcceptsSr(client, input.sr);
			const steps = changeSteps(state.current, { ntol: input.ntol, vms: wanted }, state.names, { sr: sr.ref, srName: sr.name, timeout: input.timeout ?? null });
			return { steps: steps.map((s) => toCall(s, state.poolRef)), summary: { sr: sr.name, ntol: input.ntol, changes: steps.map(describeStep) } };
		}
	}),
	'ha.reconfigure': define({
		minRole: 'pool-operator',
		schema: reconfigureSchema,
		async prepare(client, input) {
			const state = await readPool(client);
			if (!state.current.haEnabled) throw new OperationRefused(409, XapiCode.HA_NOT_ENABLED, 'HA is off: enable it with the wizard instead.');
			checkBaseline(state, input.baseline, input.confirmChanged);
			const wanted = settingsMap(input.vms, 'vms', state);
			checkPriorities(state, input.vms);
			checkTolerance(state, wanted, input.ntol);
			const steps = changeSteps(state.current, { ntol: input.ntol, vms: wanted }, state.names);
			if (steps.length === 0) throw new OperationRefused(400, 'NOTHING_TO_CHANGE', 'These settings are the pool’s current ones: nothing to apply.');
			return { steps: steps.map((s) => toCall(s, state.poolRef)), summary: { ntol: input.ntol, changes: steps.map(describeStep) } };
		}
	}),
	'ha.restore': define({
		minRole: 'pool-operator',
		schema: restoreSchema,
		async prepare(client, input) {
			const state = await readPool(client);
			const wanted = settingsMap(input.vms, 'vms', state);
			// While HA is off the pool accepts any priority; while it is on, the same rules as any change.
			if (state.current.haEnabled) {
				checkPriorities(state, input.vms);
				checkTolerance(state, wanted, input.ntol);
			}
			const steps = changeSteps(state.current, { ntol: input.ntol, vms: wanted }, state.names);
			if (steps.length === 0) throw new OperationRefused(400, 'NOTHING_TO_CHANGE', 'The pool already has these settings: nothing to put back.');
			return { steps: steps.map((s) => toCall(s, state.poolRef)), summary: { ntol: input.ntol, changes: steps.map(describeStep) } };
		}
	}),
	'ha.disable': define({
		minRole: 'pool-operator',
		schema: disableSchema,
		async prepare(client) {
			const state = await readPool(client);
			if (!state.current.haEnabled) throw new OperationRefused(409, XapiCode.HA_NOT_ENABLED, 'HA is already off.');
			return { steps: [toCall({ kind: 'disable' }, state.poolRef)], summary: { changes: ['Turn off HA'] } };
		}
	})
} as const;


export function isOperationName(name: string): name is OperationName {
	return Object.hasOwn(OPERATIONS, name);
}

// ---------------------------------------------------------------- running

const jobs = new Map<string, Job>();
/** Pools with an operation being checked or applied: one at a time, so plans cannot interleave. */
const busyPools = new Set<string>();
const JOB_TTL_MS = 30 * 60_000;

function view(job: Job): JobView {
	const { owner: _owner, ...rest } = job;
	void _owner;
	return structuredClone(rest);
}

/** A job of this session's user, or undefined (another user's job is not found, not forbidden). */
export function findJob(session: SessionView, id: string): JobView | undefined {
	const job = jobs.get(id);
	return job && job.owner === `${session.poolId}/${session.user}` ? view(job) : undefined;
}

function sweepJobs(now = Date.now()): void {
	for (const [id, job] of jobs) if (job.finishedAt && now - Date.parse(job.finishedAt) > JOB_TTL_MS) jobs.delete(id);
}

/** Parses a request body as JSON within the size limit; 4xx naming what is wrong. */
export async function readJsonBody(request: Request): Promise<unknown> {
	const type = request.headers.get('content-type') ?? '';
	if (!/^application\/json\b/i.test(type)) throw new OperationRefused(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the request as application/json.');
	const declared = Number(request.headers.get('content-length') ?? '0');
	if (declared > MAX_BODY_BYTES) throw new OperationRefused(413, 'BODY_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
	const text = await request.text();
	if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw new OperationRefused(413, 'BODY_TOO_LARGE', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
	try {
		return JSON.parse(text) as unknown;
	} catch (e) {
		throw new OperationRefused(400, 'INVALID_JSON', `The request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
	}
}

/** Validates with the operation's schema: 400 naming the first bad field. */
export function parseOperationInput<S extends v.GenericSchema>(schema: S, body: unknown): v.InferOutput<S> {
	if (typeof body !== 'object' || body === null || Array.isArray(body)) {
		throw new OperationRefused(400, 'INVALID_INPUT', `body: must be a JSON object, not ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`, 'body');
	}
	const parsed = v.safeParse(schema, body);
	if (parsed.success) return parsed.output;
	const issue = parsed.issues[0];
	const path = issue ? (v.getDotPath(issue) ?? issue.path?.map((p) => String(p.key)).join('.') ?? '') : '';
	// Unknown keys report the key itself as the path.
	const field = path || (issue?.kind === 'schema' && issue.type === 'strict_object' ? String(issue.input) : '');
	throw new OperationRefused(400, 'INVALID_INPUT', `${field || 'body'}: ${issue?.message ?? 'invalid'}`, field || 'body', {
		issues: parsed.issues.slice(0, 10).map((i) => ({ field: v.getDotPath(i) ?? '', message: i.message }))
	});
}

function describeFailure(e: unknown): { code: string; message: string } {
	if (e instanceof XapiError) return { code: e.code, message: describeXapiError(e.code, e.params) };
	if (e instanceof XapiConnectionError) return { code: 'POOL_UNREACHABLE', message: 'The pool did not answer: this step may or may not have been applied.' };
	return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/** The pool-wide steps whose finished task stays listed (the per-VM ones are tidied at once). */
const KEEP_TASK = new Set(['pool.enable_ha', 'pool.disable_ha']);

async function runSteps(client: XapiClient, job: Job, steps: PlannedStep[]): Promise<void> {
	for (const [i, step] of steps.entries()) {
		const report = job.steps[i];
		if (!report) continue;
		report.status = 'running';
		try {
			const onProgress = (p: number) => (report.progress = p);
			if (KEEP_TASK.has(step.call)) {
				// Left for the pool to clear with its finished tasks, so Logs can show the outcome.
				const task = await client.call<Ref>(`Async.${step.call}`, ...step.args);
				await waitForTask(client, task, { onProgress });
			} else {
				await client.callAsyncWith({ onProgress }, step.call, ...step.args);
			}
			report.status = 'applied';
			report.progress = 1;
		} catch (e) {
			const failure = describeFailure(e);
			report.status = 'failed';
			report.code = failure.code;
			report.message = failure.message;
			for (const later of job.steps.slice(i + 1)) later.status = 'not-run';
			job.error = { step: i, ...failure };
			const applied = job.steps.filter((s) => s.status === 'applied').length;
			const error = new XapiError(failure.code, e instanceof XapiError ? e.params : []);
			error.message = `step ${i + 1} of ${steps.length} failed (${step.call}: ${failure.code}); ${applied} applied, ${steps.length - i - 1} not run`;
			throw error;
		}
	}
}

export interface Started {
	job: JobView;
}

/**
 * Checks and starts an operation for a session. Throws OperationRefused (nothing changed) for
 * anything wrong with the request, the role or the pool's state.
 */
export async function startOperation(session: SessionView, client: XapiClient, name: string, body: unknown): Promise<Started> {
	if (!isOperationName(name)) throw new OperationRefused(404, 'UNKNOWN_OPERATION', `No operation "${name}"; Haven allows ${Object.keys(OPERATIONS).join(', ')}.`);
	const op = OPERATIONS[name];
	// The role comes from the pool's RBAC at login, never from the request.
	if (ROLE_RANK[session.role] < ROLE_RANK[op.minRole] || !session.canConfigure) {
		throw new OperationRefused(403, 'FORBIDDEN_ROLE', `Your role (${session.role}) cannot run ${name}: it needs ${op.minRole} or above.`);
	}
	const input = parseOperationInput(op.schema, body);
	if (busyPools.has(session.poolId)) {
		throw new OperationRefused(409, 'OPERATION_IN_PROGRESS', 'Another HA change is being applied to this pool; wait for it to finish, then look again.');
	}
	busyPools.add(session.poolId);
	let started = false;
	try {
		return await startChecked(session, client, name, op, input, () => (started = true));
	} finally {
		if (!started) busyPools.delete(session.poolId);
	}
}

async function startChecked(
	session: SessionView,
	client: XapiClient,
	name: OperationName,
	op: OperationDef<v.GenericSchema>,
	input: unknown,
	onStarted: () => void
): Promise<Started> {
	const { audit } = await appHistory();
	const auditId = await audit.begin({ user: session.user, role: session.role, pool: session.poolId, action: name, request: input });
	let prepared: Prepared;
	try {
		prepared = await op.prepare(client, input);
	} catch (e) {
		await audit.end(auditId, { outcome: 'failure', error: e instanceof OperationRefused ? { code: e.code, message: e.message } : e }).catch((err: unknown) => log.error({ err: String(err) }, 'audit end failed'));
		if (e instanceof XapiError || e instanceof XapiConnectionError) {
			const f = describeFailure(e);
			throw new OperationRefused(e instanceof XapiError && e.code === XapiCode.RBAC_PERMISSION_DENIED ? 403 : 502, f.code, f.message);
		}
		throw e;
	}
	sweepJobs();
	const job: Job = {
		id: randomBytes(12).toString('base64url'),
		owner: `${session.poolId}/${session.user}`,
		operation: name,
		state: 'running',
		startedAt: new Date().toISOString(),
		finishedAt: null,
		steps: prepared.steps.map((s) => ({ label: s.label, call: s.call, status: 'pending', progress: 0 })),
		error: null
	};
	jobs.set(job.id, job);
	onStarted();
	void (async () => {
		let failure: unknown = null;
		try {
			await runSteps(client, job, prepared.steps);
		} catch (e) {
			failure = e;
		}
		job.state = failure === null ? 'succeeded' : 'failed';
		job.finishedAt = new Date().toISOString();
		busyPools.delete(session.poolId);
		log.info({ user: session.user, pool: session.poolId, operation: name, state: job.state }, 'operation finished');
		const result =
			failure === null
				? ({ outcome: 'success', response: { ...(prepared.summary as object), steps: job.steps.map((s) => `${s.status}: ${s.label}`) } } as const)
				: ({ outcome: 'failure', error: failure } as const);
		await audit.end(auditId, result).catch((err: unknown) => log.error({ err: String(err) }, 'audit end failed'));
	})();
	return { job: view(job) };
}
