import * as v from 'valibot';
import { NULL_REF, XAPI_CLASSES, type Snapshot } from '../xapi/records';

/**
 * Validation of an untrusted snapshot (a file, an upload, a worker message) into the typed
 * Snapshot the planner reads. XML-RPC dumps carry int64 values as strings and booleans
 * sometimes as "true"/"false": both spellings are accepted and normalised. Classes may be
 * absent (read as empty). Fields the planner does not read are kept as they are.
 */

export type SnapshotIssue = { path: string; message: string };
export type ParseResult = { ok: true; snapshot: Snapshot } | { ok: false; issues: SnapshotIssue[] };

const show = (input: unknown): string => (input === undefined ? 'nothing' : JSON.stringify(input) ?? String(input));

const int = v.pipe(
	v.unknown(),
	v.check(
		(x) => (typeof x === 'number' && Number.isSafeInteger(x)) || (typeof x === 'string' && /^-?\d+$/.test(x.trim()) && Number.isSafeInteger(Number(x))),
		(issue) => `expected integer, got ${show(issue.input)}`
	),
	v.transform((x) => Number(x))
);
const num = v.pipe(
	v.unknown(),
	v.check(
		(x) => (typeof x === 'number' && Number.isFinite(x)) || (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x))),
		(issue) => `expected number, got ${show(issue.input)}`
	),
	v.transform((x) => Number(x))
);
const bool = v.pipe(
	v.unknown(),
	v.check((x) => typeof x === 'boolean' || x === 'true' || x === 'false' || x === 0 || x === 1 || x === '0' || x === '1', (issue) => `expected boolean, got ${show(issue.input)}`),
	v.transform((x) => x === true || x === 'true' || x === 1 || x === '1')
);
const str = v.pipe(v.unknown(), v.check((x) => typeof x === 'string', (issue) => `expected string, got ${show(issue.input)}`), v.transform((x) => x as string));
const ref = v.pipe(
	v.unknown(),
	v.check((x) => typeof x === 'string' && x.startsWith('OpaqueRef:'), (issue) => `expected an OpaqueRef, got ${show(issue.input)}`),
	v.transform((x) => x as string)
);
const refs = v.array(ref, (issue) => `expected a list of refs, got ${show(issue.input)}`);
const strings = v.array(str, (issue) => `expected a list of strings, got ${show(issue.input)}`);
const stringMap = v.record(v.string(), str, (issue) => `expected a string map, got ${show(issue.input)}`);

const opt = <T extends v.GenericSchema>(schema: T, fallback: v.InferOutput<T>) => v.optional(schema, () => fallback);

const powerState = v.picklist(['Halted', 'Paused', 'Running', 'Suspended'], (issue) => `expected Halted | Paused | Running | Suspended, got ${show(issue.input)}`);

/** Per class: the fields the planner reads (required if it cannot plan without them) and int fields of the rest. */
const classSchemas = {
	pool: v.looseObject({
		uuid: opt(str, ''),
		name_label: opt(str, ''),
		master: opt(ref, NULL_REF),
		ha_enabled: opt(bool, false),
		ha_configuration: opt(stringMap, {}),
		ha_host_failures_to_tolerate: opt(int, 0),
		ha_plan_exists_for: opt(int, 0),
		ha_allow_overcommit: opt(bool, false),
		ha_overcommitted: opt(bool, false)
	}),
	host: v.looseObject({
		uuid: str,
		name_label: opt(str, ''),
		enabled: bool,
		metrics: ref,
		memory_overhead: opt(int, 0),
		resident_VMs: opt(refs, []),
		PBDs: opt(refs, []),
		PIFs: opt(refs, [])
	}),
	host_metrics: v.looseObject({
		uuid: opt(str, ''),
		live: bool,
		memory_total: int,
		memory_free: opt(int, 0)
	}),
	VM: v.looseObject({
		uuid: str,
		name_label: opt(str, ''),
		power_state: powerState,
		resident_on: opt(ref, NULL_REF),
		scheduled_to_be_resident_on: opt(ref, NULL_REF),
		affinity: opt(ref, NULL_REF),
		is_a_template: opt(bool, false),
		is_control_domain: opt(bool, false),
		is_a_snapshot: opt(bool, false),
		memory_static_max: int,
		memory_static_min: opt(int, 0),
		memory_dynamic_max: opt(int, 0),
		memory_dynamic_min: opt(int, 0),
		memory_overhead: opt(int, 0),
		VCPUs_max: opt(int, 1),
		ha_restart_priority: opt(str, ''),
		ha_always_run: opt(bool, false),
		order: opt(int, 0),
		start_delay: opt(int, 0),
		VBDs: opt(refs, []),
		VIFs: opt(refs, []),
		VGPUs: opt(refs, []),
		VUSBs: opt(refs, []),
		attached_PCIs: opt(refs, [])
	}),
	VM_metrics: v.looseObject({ memory_actual: opt(int, 0), VCPUs_number: opt(int, 0) }),
	SR: v.looseObject({
		uuid: opt(str, ''),
		type: opt(str, ''),
		shared: bool,
		physical_size: opt(int, 0),
		physical_utilisation: opt(int, 0),
		virtual_allocation: opt(int, 0),
		PBDs: opt(refs, [])
	}),
	PBD: v.looseObject({ host: ref, SR: ref, currently_attached: bool }),
	VDI: v.looseObject({ SR: ref, virtual_size: opt(int, 0), physical_utilisation: opt(int, 0) }),
	VBD: v.looseObject({ VM: opt(ref, NULL_REF), VDI: opt(ref, NULL_REF), type: opt(str, 'Disk'), empty: opt(bool, false) }),
	VIF: v.looseObject({ VM: opt(ref, NULL_REF), network: ref, reserved_pci: opt(ref, NULL_REF) }),
	network: v.looseObject({ name_label: opt(str, ''), PIFs: opt(refs, []), MTU: opt(int, 1500) }),
	PIF: v.looseObject({ host: ref, network: ref }),
	message: v.looseObject({ priority: opt(int, 0) }),
	task: v.looseObject({ progress: opt(num, 0) })
};

function formatIssue(issue: v.BaseIssue<unknown>): SnapshotIssue {
	const keys = (issue.path ?? []).map((item) => String(item.key));
	const path = keys.join('.');
	let message = issue.message;
	if (issue.input === undefined && issue.kind === 'schema') message = 'missing';
	else if (!/^expected /.test(message)) message = `expected ${issue.expected ?? 'a valid value'}, got ${show(issue.input)}`;
	return { path, message };
}

const classRecords = Object.fromEntries(
	XAPI_CLASSES.map((cls) => [
		cls,
		v.optional(
			v.record(v.string(), classSchemas[cls], (issue) => `expected an object of ${cls} records keyed by ref, got ${show(issue.input)}`),
			() => ({})
		)
	])
) as v.ObjectEntries;

const snapshotSchema = v.looseObject(classRecords, (issue) => `expected an object keyed by XAPI class name, got ${show(issue.input)}`);

/** Validates and normalises a raw snapshot; issues name the path of each bad field. */
export function parseSnapshot(raw: unknown): ParseResult {
	const isObject = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
	if (!isObject(raw)) return { ok: false, issues: [{ path: '', message: `expected an object keyed by XAPI class name, got ${show(raw)}` }] };
	const shapeIssues: SnapshotIssue[] = [];
	for (const cls of XAPI_CLASSES) {
		const records = (raw as Record<string, unknown>)[cls];
		if (records === undefined) continue;
		if (!isObject(records)) shapeIssues.push({ path: cls, message: `expected an object of ${cls} records keyed by ref, got ${show(records)}` });
		else
			for (const [ref, record] of Object.entries(records as object))
				if (!isObject(record)) shapeIssues.push({ path: `${cls}.${ref}`, message: `expected a ${cls} record, got ${show(record)}` });
	}
	if (shapeIssues.length > 0) return { ok: false, issues: shapeIssues };
	const result = v.safeParse(snapshotSchema, raw);
	if (!result.success) return { ok: false, issues: result.issues.map(formatIssue) };
	// The schema checks every field the planner reads; the rest of each record passes through
	// untouched, so the parsed value is a Snapshot in the sense of records.ts.
	return { ok: true, snapshot: result.output as unknown as Snapshot };
}

/** `snapshot: path: message` lines, as the CLI prints them. */
export function formatIssues(issues: readonly SnapshotIssue[]): string {
	return issues.map((i) => (i.path === '' ? `snapshot: ${i.message}` : `snapshot: ${i.path}: ${i.message}`)).join('\n');
}
