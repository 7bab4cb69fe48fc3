import * as v from 'valibot';
import type { XapiClient } from './client';
import { XapiCode } from './codes';
import { XapiConnectionError, XapiError, XapiResponseError, isXapiError } from './errors';
import { XAPI_CLASSES, type RecordsByClass, type Ref, type Snapshot, type XapiClassName } from './records';

/** event.from's answer; `class` arrives lower-case (`vm`), `snapshot` is absent on some dels. */
const EventFromResultSchema = v.object({
	events: v.array(
		v.object({
			class: v.string(),
			operation: v.picklist(['add', 'mod', 'del']),
			ref: v.string(),
			snapshot: v.optional(v.unknown())
		})
	),
	token: v.string()
});

export type RawEventFromResult = v.InferOutput<typeof EventFromResultSchema>;

export function parseEventFromResult(raw: unknown): RawEventFromResult {
	const parsed = v.safeParse(EventFromResultSchema, raw);
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const where = issue ? v.getDotPath(issue) : null;
		throw new XapiResponseError(`event.from answered an unexpected shape${where ? ` at ${where}` : ''}: ${issue?.message ?? 'invalid'}`);
	}
	return parsed.output;
}

const CLASS_BY_LOWER = new Map<string, XapiClassName>(XAPI_CLASSES.map((cls) => [cls.toLowerCase(), cls]));

/** XAPI class name for an event's lower-case class (`vm` → `VM`, `pbd` → `PBD`). */
export function xapiClassName(eventClass: string): XapiClassName | undefined {
	return CLASS_BY_LOWER.get(eventClass.toLowerCase());
}

/** One change, with its class under its XAPI name; `snapshot` is the record after the change. */
export type PoolEvent = {
	[K in XapiClassName]: { class: K; operation: 'add' | 'mod' | 'del'; ref: Ref; snapshot: RecordsByClass[K] | undefined };
}[XapiClassName];

export type WatchUpdate =
	/** Everything in the watched classes: first at start, again after any gap (resync). */
	| { kind: 'state'; records: Partial<Snapshot>; reason: 'initial' | 'resync' }
	| { kind: 'events'; events: PoolEvent[] };

export interface WatchEventsOptions {
	signal?: AbortSignal;
	/** Seconds one event.from call may wait for a change. */
	timeoutS?: number;
	/** First pause after a failure; doubles up to `maxRetryDelayMs` while failures continue. */
	retryDelayMs?: number;
	maxRetryDelayMs?: number;
	/** Told about every failure the watcher survives (for logs and a "reconnecting" banner). */
	onError?: (error: unknown, retryInMs: number) => void;
}

/** Turns event.from's raw events into `PoolEvent`s, dropping classes Haven does not model. */
export function normaliseEvents(raw: RawEventFromResult['events']): PoolEvent[] {
	const events: PoolEvent[] = [];
	for (const event of raw) {
		const cls = xapiClassName(event.class);
		if (cls === undefined) continue;
		events.push({ class: cls, operation: event.operation, ref: event.ref, snapshot: event.snapshot } as PoolEvent);
	}
	return events;
}

class Stopped extends Error {}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(new Stopped());
		const onAbort = () => {
			clearTimeout(timer);
			reject(new Stopped());
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

/**
 * Watches `classes` until `signal` aborts (then resolves). The handler gets the full state of
 * those classes, then batches of changes. The event token is taken *before* the full fetch
 * (event.inject), so a change made during the fetch is delivered afterwards, never lost.
 *
 * Survives failures: `EVENTS_LOST` and `SESSION_INVALID` restart from a full fetch (after a
 * re-login); "nobody answered" makes the client look for the master among the members and
 * then restarts from a full fetch, since a new session may not honour the old token. Any other
 * error answer from XAPI restarts from a full fetch after a pause (doubling while it lasts). The watcher rejects (stops) when recovery
 * itself is refused (no credentials callback, a changed password, the client logged out) and
 * when the handler throws.
 */
export async function watchEvents(
	client: XapiClient,
	classes: readonly XapiClassName[],
	handler: (update: WatchUpdate) => void | Promise<void>,
	options: WatchEventsOptions = {}
): Promise<void> {
	const { signal, timeoutS = 30, retryDelayMs = 1000, maxRetryDelayMs = 30_000, onError } = options;
	if (classes.length === 0) throw new Error('watchEvents: no classes to watch');
	const wire = [...new Set(classes)];
	const hostAddresses = new Map<Ref, string>();
	let reason: 'initial' | 'resync' = 'initial';

	const learnHosts = () => {
		if (wire.includes('host') && hostAddresses.size > 0) client.setMemberAddresses(hostAddresses.values());
	};

	/** Failures since the last good answer: the pause doubles with each, up to the maximum. */
	let streak = 0;
	/** Pauses with backoff, re-logging in or failing over first when that is what failed. */
	const recoverFrom = async (error: unknown, session: Ref): Promise<void> => {
		let delay = Math.min(retryDelayMs * 2 ** Math.min(streak, 30), maxRetryDelayMs);
		streak++;
		let current = error;
		for (;;) {
			if (signal?.aborted) throw new Stopped();
			if (!client.loggedIn) throw new Error('watchEvents: the client was logged out', { cause: current });
			const kind = isXapiError(current, XapiCode.SESSION_INVALID) ? 'session' : current instanceof XapiConnectionError ? 'connection' : undefined;
			if (kind === undefined) {
				onError?.(current, delay);
				await sleep(delay, signal);
				return;
			}
			onError?.(current, 0);
			try {
				await client.reconnect(session, kind);
				return;
			} catch (e) {
				if (signal?.aborted) throw new Stopped();
				// A refused login, missing credentials or a logged-out client will not mend by
				// retrying: the watcher stops with it. Silence, or a pool still electing its
				// master (HOST_IS_SLAVE pointing round in circles, a host still starting), is
				// waited out.
				const permanent = !(e instanceof XapiConnectionError || e instanceof XapiError) || isXapiError(e, XapiCode.SESSION_AUTHENTICATION_FAILED) || !client.loggedIn;
				if (permanent) throw e;
				current = e;
				onError?.(e, delay);
				await sleep(delay, signal);
				delay = Math.min(delay * 2, maxRetryDelayMs);
			}
		}
	};

	try {
		main: for (;;) {
			if (signal?.aborted) return;
			const session = client.sessionRef;
			if (session === undefined) throw new Error('watchEvents: the client is not logged in');
			let token: string;
			let records: Partial<Snapshot>;
			try {
				const pools = await client.callWith<Record<Ref, unknown>>({ signal }, 'pool.get_all_records');
				const poolRef = Object.keys(pools)[0];
				if (poolRef === undefined) throw new XapiResponseError('pool.get_all_records answered no pool');
				token = String(await client.callWith({ signal }, 'event.inject', 'pool', poolRef));
				records = {};
				await Promise.all(
					wire.map(async (cls) => {
						(records as Record<string, unknown>)[cls] = await client.callWith({ signal }, `${cls}.get_all_records`);
					})
				);
				// A re-login or failover during the fetch may have changed the pool's notion of
				// our token: start over rather than risk a gap.
				if (client.sessionRef !== session) continue main;
			} catch (e) {
				if (signal?.aborted || e instanceof Stopped) return;
				if (e instanceof XapiResponseError) throw e;
				await recoverFrom(e, session);
				continue main;
			}
			streak = 0;
			hostAddresses.clear();
			for (const [ref, host] of Object.entries(records.host ?? {})) hostAddresses.set(ref, host.address);
			learnHosts();
			await handler({ kind: 'state', records, reason });
			reason = 'resync';

			for (;;) {
				let answer: RawEventFromResult;
				try {
					answer = parseEventFromResult(await client.callWith({ signal, recover: false }, 'event.from', wire, token, timeoutS));
				} catch (e) {
					if (signal?.aborted) return;
					if (isXapiError(e, XapiCode.EVENTS_LOST)) {
						onError?.(e, 0);
						continue main;
					}
					if (isXapiError(e, XapiCode.SESSION_INVALID) || e instanceof XapiConnectionError) {
						await recoverFrom(e, session);
						continue main;
					}
					if (e instanceof XapiResponseError) throw e;
					// XAPI answered with another error: pause, then start again from a full fetch,
					// in case it is the token it no longer accepts.
					await recoverFrom(e, session);
					continue main;
				}
				if (client.sessionRef !== session) continue main;
				streak = 0;
				token = answer.token;
				const events = normaliseEvents(answer.events);
				if (events.length === 0) continue;
				let hostsChanged = false;
				for (const event of events) {
					if (event.class !== 'host') continue;
					if (event.operation === 'del') hostsChanged = hostAddresses.delete(event.ref) || hostsChanged;
					else if (event.snapshot && hostAddresses.get(event.ref) !== event.snapshot.address) {
						hostAddresses.set(event.ref, event.snapshot.address);
						hostsChanged = true;
					}
				}
				if (hostsChanged) learnHosts();
				await handler({ kind: 'events', events });
			}
		}
	} catch (e) {
		if (e instanceof Stopped) return;
		throw e;
	}
}
