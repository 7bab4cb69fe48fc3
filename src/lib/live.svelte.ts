import type { MessageSummary, TaskSummary } from '$lib/pool/activity';
import type { PoolOverview } from '$lib/pool/overview';

/**
 * The browser's view of the pool, kept current by the server's event stream (`/api/events`).
 * EventSource reconnects by itself; the server resends the latest state on every connect, so
 * nothing is missed across a drop.
 */
export class LivePool {
	overview = $state.raw<PoolOverview | null>(null);
	tasks = $state.raw<TaskSummary[]>([]);
	messages = $state.raw<MessageSummary[]>([]);
	connected = $state(false);
	master = $state('');
	error = $state<string | null>(null);
	/** The Haven session is over (logged out elsewhere, expired, server restarted): log in again. */
	sessionEnded = $state(false);
	/** Bumped on every overview, so dependants (the planner) know the pool changed. */
	version = $state(0);
	#source: EventSource | null = null;

	constructor(initial?: PoolOverview | null) {
		this.overview = initial ?? null;
	}

	connect(url = '/api/events'): () => void {
		const source = new EventSource(url);
		this.#source = source;
		source.addEventListener('overview', (e) => {
			this.overview = (JSON.parse(e.data) as { overview: PoolOverview }).overview;
			this.version += 1;
		});
		source.addEventListener('tasks', (e) => {
			this.tasks = (JSON.parse(e.data) as { tasks: TaskSummary[] }).tasks;
		});
		source.addEventListener('messages', (e) => {
			this.messages = (JSON.parse(e.data) as { messages: MessageSummary[] }).messages;
		});
		source.addEventListener('status', (e) => {
			const status = JSON.parse(e.data) as { connected: boolean; master: string; error?: string };
			this.connected = status.connected;
			this.master = status.master;
			this.error = status.error ?? null;
		});
		source.addEventListener('ended', () => {
			this.sessionEnded = true;
			this.connected = false;
			this.disconnect();
		});
		source.onerror = () => {
			this.connected = false;
			// A refused stream (401 after the server lost the session, 5xx) is not retried by
			// EventSource itself: find out which, and reconnect unless the session is gone.
			if (source.readyState === EventSource.CLOSED && this.#source === source) void this.#afterClosed(url);
		};
		return () => this.disconnect();
	}

	async #afterClosed(url: string): Promise<void> {
		const res = await fetch('/api/session').catch(() => null);
		if (res?.status === 401) {
			this.sessionEnded = true;
			return;
		}
		setTimeout(() => {
			if (this.#source?.readyState === EventSource.CLOSED) this.connect(url);
		}, 3000);
	}

	disconnect(): void {
		this.#source?.close();
		this.#source = null;
	}
}
