/**
 * event.from and event.inject, after xapi_event.ml: a token is "<generation>,<message
 * generation>" zero-padded to 20 digits (so tokens compare as strings), the empty token means
 * generation 0 (every current object comes back as an "add"), and the call waits until
 * something in the subscribed classes changes or `timeout` real seconds pass.
 */
import { XapiCode } from '../codes';
import { XapiError } from '../errors';
import { XAPI_CLASSES, type Ref, type XapiClassName } from '../records';
import type { SimDatabase } from './database';

export interface XapiEvent {
	id: string;
	timestamp: string;
	class: string;
	operation: 'add' | 'mod' | 'del';
	ref: Ref;
	snapshot?: unknown;
}

export interface EventFromResult {
	events: XapiEvent[];
	valid_ref_counts: Record<string, number>;
	token: string;
}

const BY_LOWER = new Map<string, XapiClassName>(XAPI_CLASSES.map((c) => [c.toLowerCase(), c]));

/** Subscriptions as xapi parses them: "*", a class ("vm"), or one object ("vm/OpaqueRef:…"). */
interface Subscriptions {
	classes: Set<XapiClassName>;
	objects: Set<Ref>;
}

function parseSubscriptions(classes: readonly string[]): Subscriptions {
	const subs: Subscriptions = { classes: new Set(), objects: new Set() };
	for (const raw of classes) {
		if (raw === '*') {
			for (const c of XAPI_CLASSES) subs.classes.add(c);
			continue;
		}
		const slash = raw.indexOf('/');
		const name = (slash < 0 ? raw : raw.slice(0, slash)).toLowerCase();
		const cls = BY_LOWER.get(name);
		// An unknown class is not an error in xapi: it simply never matches anything.
		if (!cls) continue;
		if (slash < 0) subs.classes.add(cls);
		else {
			subs.classes.add(cls);
			subs.objects.add(raw.slice(slash + 1));
		}
	}
	return subs;
}

export function formatToken(generation: number): string {
	return `${String(generation).padStart(20, '0')},${'0'.padStart(20, '0')}`;
}

export function parseToken(token: string): number {
	if (token === '') return 0;
	const m = /^(\d+),(\d+)$/.exec(token);
	if (!m) throw new XapiError(XapiCode.EVENT_FROM_TOKEN_PARSE_FAILURE, [token]);
	return Number(m[1]);
}

export interface EventFromOptions {
	/** Real milliseconds to wait for a change (xapi's timeout is real seconds). */
	timeoutMs: number;
	/** Simulated epoch ms, for event timestamps. */
	now: () => number;
	/** False once the session is gone or the pool stopped: the wait ends with SESSION_INVALID. */
	stillValid: () => boolean;
	sessionRef: Ref;
}

export async function eventFrom(db: SimDatabase, classes: readonly string[], token: string, opts: EventFromOptions): Promise<EventFromResult> {
	const since = parseToken(token);
	if (token !== '' && db.lostSince(since)) throw new XapiError(XapiCode.EVENTS_LOST, []);
	const subs = parseSubscriptions(classes);
	// Object subscriptions narrow their class; a plain class subscription widens it again.
	const wholeClasses = new Set<XapiClassName>();
	for (const raw of classes) {
		if (raw === '*') XAPI_CLASSES.forEach((c) => wholeClasses.add(c));
		else if (!raw.includes('/')) {
			const cls = BY_LOWER.get(raw.toLowerCase());
			if (cls) wholeClasses.add(cls);
		}
	}
	const matches = (cls: XapiClassName, ref: Ref) => wholeClasses.has(cls) || subs.objects.has(ref);
	const deadline = Date.now() + Math.max(0, opts.timeoutMs);
	for (;;) {
		if (!opts.stillValid()) throw new XapiError(XapiCode.SESSION_INVALID, [opts.sessionRef]);
		const generation = db.generation;
		const events: XapiEvent[] = [];
		const timestamp = (opts.now() / 1000).toFixed(3);
		for (const d of db.deletedSince(since, subs.classes)) {
			if (!matches(d.cls, d.ref)) continue;
			events.push({ id: String(d.generation), timestamp, class: d.cls.toLowerCase(), operation: 'del', ref: d.ref });
		}
		for (const row of db.changedSince(since, subs.classes)) {
			if (!matches(row.cls, row.ref)) continue;
			const record = db.get(row.cls, row.ref);
			if (!record) continue;
			events.push({
				id: String(row.generation),
				timestamp,
				class: row.cls.toLowerCase(),
				operation: row.operation,
				ref: row.ref,
				snapshot: structuredClone(record)
			});
		}
		const remaining = deadline - Date.now();
		if (events.length > 0 || remaining <= 0) {
			events.sort((a, b) => Number(a.id) - Number(b.id));
			return { events, valid_ref_counts: refCounts(db), token: formatToken(Math.max(generation, since)) };
		}
		await db.waitForChange(remaining);
	}
}

function refCounts(db: SimDatabase): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const cls of XAPI_CLASSES) counts[cls.toLowerCase()] = Object.keys(db.snapshot[cls]).length;
	return counts;
}

/** event.inject: touches the object so watchers see a "mod"; returns the token just before it. */
export function eventInject(db: SimDatabase, cls: string, ref: Ref): string {
	const table = BY_LOWER.get(cls.toLowerCase());
	if (!table || db.classOf(ref) !== table) throw new XapiError(XapiCode.HANDLE_INVALID, [cls, ref]);
	db.touch(table, ref);
	return formatToken(db.generation - 1);
}
