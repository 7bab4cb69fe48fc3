import { messageSummaries, taskSummaries, type MessageSummary, type TaskSummary } from '$lib/pool/activity';
import { poolOverview, type OverviewClasses, type PoolOverview } from '$lib/pool/overview';
import type { XapiClient } from '$lib/xapi/client';
import { watchEvents, type WatchUpdate } from '$lib/xapi/events';
import type { Snapshot, XapiClassName } from '$lib/xapi/records';
import { log } from './log';
import { clientFor, onSessionClose, type SessionView } from './sessions';

/** What the browser's live store receives, one SSE event each. */
export type LiveMessage =
	| { type: 'overview'; overview: PoolOverview }
	| { type: 'tasks'; tasks: TaskSummary[] }
	| { type: 'messages'; messages: MessageSummary[] }
	| { type: 'status'; connected: boolean; master: string; error?: string }
	/** The Haven session ended (logout, expiry, shutdown): the stream closes after this. */
	| { type: 'ended'; reason: string };

export const LIVE_CLASSES: readonly XapiClassName[] = ['pool', 'host', 'host_metrics', 'VM', 'SR', 'PBD', 'VDI', 'task', 'message'];
const OVERVIEW_CLASSES = new Set<string>(['pool', 'host', 'host_metrics', 'VM', 'SR', 'PBD', 'VDI']);
/** Bursts of events (a host failure halts many VMs at once) are sent as one update. */
const FLUSH_MS = 150;
/** A feed with no subscriber stays up briefly, so a page change does not restart it. */
const IDLE_STOP_MS = Number(process.env['HAVEN_LIVE_IDLE_MS'] ?? 30_000);

/** A subscriber gets each message with its SSE text, serialised once for everyone. */
export type Subscriber = (message: LiveMessage, sse: string) => void;

function toSse(message: LiveMessage): string {
	return `event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`;
}

/**
 * One event watcher per pool, shared by every signed-in page on that pool: what it streams
 * (overview, tasks, messages) is readable by every XAPI role, so one watch serves them all and
 * the cost of a page is a write, not a watch. It watches through the session of one of its
 * subscribers; when that session ends, it carries on through another's.
 */
class LiveFeed {
	readonly #poolId: string;
	readonly #subscribers = new Map<Subscriber, string>();
	readonly #clients = new Map<string, XapiClient>();
	#driver: string | undefined;
	#records: Partial<Snapshot> = {};
	#abort: AbortController | undefined;
	#dirty = new Set<string>();
	#timer: ReturnType<typeof setTimeout> | undefined;
	#idleTimer: ReturnType<typeof setTimeout> | undefined;
	#last = new Map<LiveMessage['type'], { message: LiveMessage; sse: string }>();

	constructor(poolId: string) {
		this.#poolId = poolId;
	}

	subscribe(session: SessionView, subscriber: Subscriber): () => void {
		if (!this.#clients.has(session.id)) this.#clients.set(session.id, clientFor(session));
		this.#subscribers.set(subscriber, session.id);
		if (this.#idleTimer) clearTimeout(this.#idleTimer);
		this.#idleTimer = undefined;
		for (const { message, sse } of this.#last.values()) subscriber(message, sse);
		if (!this.#abort) this.#start();
		return () => {
			this.#subscribers.delete(subscriber);
			if (this.#subscribers.size > 0) return;
			// One idle timer at a time, and it only stops a feed nobody has rejoined meanwhile:
			// a stray timer must never stop the watch a newer page depends on.
			if (this.#idleTimer) clearTimeout(this.#idleTimer);
			this.#idleTimer = setTimeout(() => {
				this.#idleTimer = undefined;
				if (this.#subscribers.size === 0) this.stop();
			}, IDLE_STOP_MS);
			this.#idleTimer.unref?.();
		};
	}

	/** A session ended: its pages are told and closed; the watch moves to another session. */
	endSession(sessionId: string, reason: string): void {
		const ended: LiveMessage = { type: 'ended', reason };
		const sse = toSse(ended);
		for (const [subscriber, owner] of this.#subscribers) {
			if (owner !== sessionId) continue;
			this.#subscribers.delete(subscriber);
			subscriber(ended, sse);
		}
		this.#clients.delete(sessionId);
		if (this.#driver === sessionId) {
			this.#abort?.abort();
			this.#abort = undefined;
			if (this.#subscribers.size > 0) this.#start();
		}
	}

	/** Server shutdown: every page is told, the watch stops. */
	end(reason: string): void {
		const ended: LiveMessage = { type: 'ended', reason };
		const sse = toSse(ended);
		for (const subscriber of this.#subscribers.keys()) subscriber(ended, sse);
		this.#subscribers.clear();
		this.stop();
	}

	stop(): void {
		this.#abort?.abort();
		this.#abort = undefined;
		this.#driver = undefined;
		if (this.#timer) clearTimeout(this.#timer);
		this.#timer = undefined;
		this.#last.clear();
	}

	#start(): void {
		// Drive the watch with a session that still has pages open.
		const driver = [...new Set(this.#subscribers.values())].find((id) => this.#clients.has(id));
		const client = driver ? this.#clients.get(driver) : undefined;
		if (!driver || !client) return;
		const abort = new AbortController();
		this.#abort = abort;
		this.#driver = driver;
		watchEvents(client, LIVE_CLASSES, (update) => this.#apply(update), {
			signal: abort.signal,
			timeoutS: 25,
			onError: (error, retryInMs) => {
				const message = error instanceof Error ? error.message : String(error);
				log.warn({ pool: this.#poolId, err: message, retryInMs }, 'live feed interrupted');
				this.#send({ type: 'status', connected: false, master: client.baseUrl.host, error: message });
			}
		})
			.catch((error: unknown) => {
				if (abort.signal.aborted) return;
				const message = error instanceof Error ? error.message : String(error);
				log.error({ pool: this.#poolId, err: message }, 'live feed stopped');
				this.#send({ type: 'status', connected: false, master: client.baseUrl.host, error: message });
			})
			.finally(() => {
				if (this.#abort === abort) {
					this.#abort = undefined;
					this.#driver = undefined;
				}
			});
	}

	#apply(update: WatchUpdate): void {
		if (update.kind === 'state') {
			this.#records = update.records;
			for (const cls of LIVE_CLASSES) this.#dirty.add(cls);
		} else {
			for (const event of update.events) {
				const table = (this.#records[event.class] ??= {}) as Record<string, unknown>;
				if (event.operation === 'del' || event.snapshot === undefined) delete table[event.ref];
				else table[event.ref] = event.snapshot;
				this.#dirty.add(event.class);
			}
		}
		this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS);
	}

	#flush(): void {
		this.#timer = undefined;
		const dirty = this.#dirty;
		this.#dirty = new Set();
		const client = this.#driver ? this.#clients.get(this.#driver) : undefined;
		this.#send({ type: 'status', connected: true, master: client?.baseUrl.host ?? '' });
		if ([...dirty].some((cls) => OVERVIEW_CLASSES.has(cls))) {
			try {
				this.#send({ type: 'overview', overview: poolOverview(this.#records as OverviewClasses) });
			} catch (e) {
				log.warn({ pool: this.#poolId, err: e instanceof Error ? e.message : String(e) }, 'overview not computable yet');
			}
		}
		if (dirty.has('task')) this.#send({ type: 'tasks', tasks: taskSummaries(this.#records.task ?? {}) });
		if (dirty.has('message') || dirty.has('host') || dirty.has('VM')) this.#send({ type: 'messages', messages: messageSummaries(this.#records) });
	}

	#send(message: LiveMessage): void {
		const sse = toSse(message);
		this.#last.set(message.type, { message, sse });
		for (const subscriber of this.#subscribers.keys()) subscriber(message, sse);
	}
}

const feeds = new Map<string, LiveFeed>();
const watchedSessions = new Set<string>();

/** Subscribes a page of `session` to its pool's live feed; returns the unsubscribe. */
export function subscribeLive(session: SessionView, subscriber: Subscriber): () => void {
	let feed = feeds.get(session.poolId);
	if (!feed) {
		feed = new LiveFeed(session.poolId);
		feeds.set(session.poolId, feed);
	}
	if (!watchedSessions.has(session.id)) {
		watchedSessions.add(session.id);
		const poolFeed = feed;
		onSessionClose(session, (reason) => {
			watchedSessions.delete(session.id);
			poolFeed.endSession(session.id, reason);
		});
	}
	return feed.subscribe(session, subscriber);
}

/** Ends every open stream (server shutdown), so the HTTP server can close its connections. */
export function endAllLiveFeeds(reason: string): void {
	for (const feed of feeds.values()) feed.end(reason);
	feeds.clear();
}

export function liveFeedCount(): number {
	return feeds.size;
}
