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
	/** The Haven session ended (logout, expiry): the stream closes after this. */
	| { type: 'ended'; reason: string };

export const LIVE_CLASSES: readonly XapiClassName[] = ['pool', 'host', 'host_metrics', 'VM', 'SR', 'PBD', 'VDI', 'task', 'message'];
const OVERVIEW_CLASSES = new Set<string>(['pool', 'host', 'host_metrics', 'VM', 'SR', 'PBD', 'VDI']);
/** Bursts of events (a host failure halts many VMs at once) are sent as one update. */
const FLUSH_MS = 150;
/** A feed with no subscriber stays up briefly, so a page change does not restart it. */
const IDLE_STOP_MS = 30_000;

type Subscriber = (message: LiveMessage) => void;

/**
 * One event watcher per Haven session, shared by that session's open pages. Records are kept
 * as XAPI sends them; what the browser gets is the reduced overview, tasks and messages.
 */
class LiveFeed {
	readonly #client: XapiClient;
	readonly #subscribers = new Set<Subscriber>();
	#records: Partial<Snapshot> = {};
	#abort: AbortController | undefined;
	#dirty = new Set<string>();
	#timer: ReturnType<typeof setTimeout> | undefined;
	#idleTimer: ReturnType<typeof setTimeout> | undefined;
	#last = new Map<LiveMessage['type'], LiveMessage>();
	#who: string;

	constructor(client: XapiClient, who: string) {
		this.#client = client;
		this.#who = who;
	}

	subscribe(subscriber: Subscriber): () => void {
		this.#subscribers.add(subscriber);
		if (this.#idleTimer) clearTimeout(this.#idleTimer);
		for (const message of this.#last.values()) subscriber(message);
		if (!this.#abort) this.#start();
		return () => {
			this.#subscribers.delete(subscriber);
			if (this.#subscribers.size === 0) {
				this.#idleTimer = setTimeout(() => this.stop(), IDLE_STOP_MS);
				this.#idleTimer.unref?.();
			}
		};
	}

	/** Tells every open page the session is over, then stops watching. */
	end(reason: string): void {
		for (const subscriber of this.#subscribers) subscriber({ type: 'ended', reason });
		this.#subscribers.clear();
		this.stop();
	}

	stop(): void {
		this.#abort?.abort();
		this.#abort = undefined;
		if (this.#timer) clearTimeout(this.#timer);
		this.#last.clear();
	}

	#start(): void {
		const abort = new AbortController();
		this.#abort = abort;
		watchEvents(this.#client, LIVE_CLASSES, (update) => this.#apply(update), {
			signal: abort.signal,
			timeoutS: 25,
			onError: (error, retryInMs) => {
				const message = error instanceof Error ? error.message : String(error);
				log.warn({ who: this.#who, err: message, retryInMs }, 'live feed interrupted');
				this.#send({ type: 'status', connected: false, master: this.#client.baseUrl.host, error: message });
			}
		})
			.catch((error: unknown) => {
				const message = error instanceof Error ? error.message : String(error);
				log.error({ who: this.#who, err: message }, 'live feed stopped');
				this.#send({ type: 'status', connected: false, master: this.#client.baseUrl.host, error: message });
			})
			.finally(() => {
				if (this.#abort === abort) this.#abort = undefined;
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
		this.#send({ type: 'status', connected: true, master: this.#client.baseUrl.host });
		if ([...dirty].some((cls) => OVERVIEW_CLASSES.has(cls))) {
			try {
				this.#send({ type: 'overview', overview: poolOverview(this.#records as OverviewClasses) });
			} catch (e) {
				log.warn({ who: this.#who, err: e instanceof Error ? e.message : String(e) }, 'overview not computable yet');
			}
		}
		if (dirty.has('task')) this.#send({ type: 'tasks', tasks: taskSummaries(this.#records.task ?? {}) });
		if (dirty.has('message') || dirty.has('host') || dirty.has('VM')) this.#send({ type: 'messages', messages: messageSummaries(this.#records) });
	}

	#send(message: LiveMessage): void {
		this.#last.set(message.type, message);
		for (const subscriber of this.#subscribers) subscriber(message);
	}
}

const feeds = new Map<string, LiveFeed>();

/** The live feed of a session, started on first use and stopped when the session ends. */
export function liveFeedFor(session: SessionView): LiveFeed {
	let feed = feeds.get(session.id);
	if (!feed) {
		const created = new LiveFeed(clientFor(session), `${session.user}@${session.poolId}`);
		feed = created;
		feeds.set(session.id, created);
		onSessionClose(session, (reason) => {
			created.end(reason);
			feeds.delete(session.id);
		});
	}
	return feed;
}

/** Ends every open stream (server shutdown), so the HTTP server can close its connections. */
export function endAllLiveFeeds(reason: string): void {
	for (const feed of feeds.values()) feed.end(reason);
	feeds.clear();
}

export function liveFeedCount(): number {
	return feeds.size;
}
