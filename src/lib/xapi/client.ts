import { poolBaseUrl, withHost } from './address';
import { XapiCode } from './codes';
import { XapiConnectionError, XapiError, isXapiError, redactSession } from './errors';
import type { HostRecord, RecordsByClass, Ref, XapiClassName } from './records';
import { waitForTask, type WaitForTaskOptions } from './tasks';
import { autoTransport, type Transport } from './transport';

export type TransportFactory = (baseUrl: URL) => Transport;

export interface Credentials {
	user: string;
	password: string;
}

/**
 * Hands the client credentials when it must log in again (`SESSION_INVALID`, a new master).
 * The owner (the server's session store) keeps the password; the client forgets it after use.
 */
export type CredentialsProvider = () => Credentials | Promise<Credentials>;

export interface XapiClientOptions {
	/** Pool master address as the admin typed it (see `poolBaseUrl`). */
	address: string;
	transport?: TransportFactory;
	/** Sent as `originator` at login so the pool's logs say who connected. */
	originator?: string;
	/**
	 * Without it the client cannot recover on its own: `SESSION_INVALID` and an unreachable
	 * master reach the caller as they are.
	 */
	credentials?: CredentialsProvider;
	/** Member addresses remembered from an earlier connection, tried when the master is gone. */
	memberAddresses?: readonly string[];
	/** Called with the new master's URL whenever the client starts talking to another host. */
	onMasterChange?: (baseUrl: URL) => void;
	/** How long one failover probe waits for a member before counting it dead. */
	probeTimeoutMs?: number;
	/** Refuse every call that could change the pool (see `isReadOnlyCall`), before sending it. */
	readOnly?: boolean;
}

export interface CallOptions {
	/** Aborts the call; an aborted call never triggers re-login or failover. */
	signal?: AbortSignal;
	/**
	 * Re-login once on `SESSION_INVALID` and look for the master when nobody answered (default
	 * true). The event watcher turns it off: a new session must restart it from a full fetch.
	 */
	recover?: boolean;
}

const API_VERSION = '1.0';
const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/** Reads change nothing, so they may be sent again to the new master after a failover. */
function isReadOnlyMethod(method: string): boolean {
	return /^[A-Za-z_]+\.get_/.test(method) || method === 'event.from' || method === 'system.listMethods';
}

/**
 * What a read-only client may call: reads, events, and the pool's side-effect-free checks and
 * computations (the what-if answers a helpdesk needs), also in their `Async.` form, plus
 * tidying up the tasks those create.
 */
export function isReadOnlyCall(method: string): boolean {
	const name = method.startsWith('Async.') ? method.slice('Async.'.length) : method;
	return (
		isReadOnlyMethod(name) ||
		name === 'event.inject' ||
		name === 'task.destroy' ||
		name === 'task.cancel' ||
		/^[A-Za-z_]+\.assert_/.test(name) ||
		/^pool\.ha_(compute_\w+|failover_plan_exists)$/.test(name)
	);
}

/** A read-only client refused a call before sending it. */
export class ReadOnlyClientError extends Error {
	readonly call: string;
	constructor(method: string) {
		super(`this XAPI client is read-only: ${method} was not sent`);
		this.name = 'ReadOnlyClientError';
		this.call = method;
	}
}

interface OpenedSession {
	base: URL;
	transport: Transport;
	session: Ref;
}

/**
 * A typed XAPI client. It holds the session ref it was given by the pool but never the
 * password after login: keeping credentials (for re-login) is the server session store's job,
 * reached through the `credentials` callback.
 */
export class XapiClient {
	#base: URL;
	#transport: Transport;
	readonly #makeTransport: TransportFactory;
	readonly #originator: string;
	readonly #credentials: CredentialsProvider | undefined;
	readonly #onMasterChange: ((baseUrl: URL) => void) | undefined;
	readonly #probeTimeoutMs: number;
	readonly #readOnly: boolean;
	#session: Ref | undefined;
	/** Pool members' host names (URL form), the current one included. */
	#members: Set<string>;
	/** One re-login or failover at a time; concurrent failures wait for it. */
	#recovery: Promise<void> | undefined;
	/** Bumped by logout, so a recovery finishing afterwards does not bring the session back. */
	#logoutCount = 0;

	constructor(options: XapiClientOptions) {
		this.#base = poolBaseUrl(options.address);
		this.#makeTransport = options.transport ?? ((url) => autoTransport(url.toString(), { timeoutMs: 60_000 }));
		this.#transport = this.#makeTransport(this.#base);
		this.#originator = options.originator ?? 'haven';
		this.#credentials = options.credentials;
		this.#onMasterChange = options.onMasterChange;
		this.#probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
		this.#readOnly = options.readOnly ?? false;
		this.#members = new Set([this.#base.hostname]);
		this.#addMembers(options.memberAddresses ?? []);
	}

	get readOnly(): boolean {
		return this.#readOnly;
	}

	/** The URL of the host currently answering as master. */
	get baseUrl(): URL {
		return new URL(this.#base.toString());
	}

	get loggedIn(): boolean {
		return this.#session !== undefined;
	}

	/** The raw session ref, for server-side code that must hand it to another client. */
	get sessionRef(): Ref | undefined {
		return this.#session;
	}

	/**
	 * Addresses of the known pool members (host names as in a URL). The owner may persist them
	 * and pass them back as `memberAddresses`, so failover still works after a restart.
	 */
	get memberAddresses(): string[] {
		return [...this.#members];
	}

	/**
	 * Replaces the known members with the pool's current ones (`host.address` of every host).
	 * Replacing, not adding, drops ejected hosts: one still alive as its own standalone pool
	 * would answer a probe and connect us to the wrong pool. The current host always stays,
	 * as the address we reach it by may differ from the one XAPI reports (NAT, DNS name).
	 */
	setMemberAddresses(addresses: Iterable<string>): void {
		this.#members = new Set([this.#base.hostname]);
		this.#addMembers(addresses);
	}

	/** Logs in with the given credentials, or asks the `credentials` callback for them. */
	async login(): Promise<void>;
	async login(user: string, password: string): Promise<void>;
	async login(user?: string, password?: string): Promise<void> {
		const credentials = user === undefined ? await this.#askCredentials('login') : { user, password: password ?? '' };
		const logoutCount = this.#logoutCount;
		let opened: OpenedSession;
		try {
			opened = await this.#openSession(this.#base, this.#transport, credentials);
		} catch (e) {
			// The address we were given may be a master that died since: ask the other members.
			if (!(e instanceof XapiConnectionError) || this.#members.size < 2) throw e;
			opened = await this.#failover(credentials, e);
		}
		if (logoutCount !== this.#logoutCount) {
			// logout() ran meanwhile: honour it rather than resurrect the session.
			await opened.transport('session.logout', [opened.session]).catch(() => undefined);
			throw new XapiError(XapiCode.SESSION_INVALID, ['(logged out during login)'], { call: 'session.login_with_password' });
		}
		const previous = this.#session;
		this.#adopt(opened);
		// A second login replaces the session: close the old one rather than leave it open.
		if (previous !== undefined) await this.#transport('session.logout', [previous]).catch(() => undefined);
		await this.#refreshMembers();
	}

	/** Calls `method` with the session ref prepended. */
	async call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
		return this.callWith<T>({}, method, ...args);
	}

	/** `call` with an abort signal, or without recovery (see `CallOptions`). */
	async callWith<T = unknown>(options: CallOptions, method: string, ...args: unknown[]): Promise<T> {
		const { signal, recover = true } = options;
		if (this.#readOnly && !isReadOnlyCall(method)) throw new ReadOnlyClientError(method);
		for (let attempt = 0; ; attempt++) {
			const session = this.#session;
			if (session === undefined) throw new XapiError(XapiCode.SESSION_INVALID, [], { call: method, url: this.#base.origin });
			const base = this.#base;
			try {
				return (await this.#transport(method, [session, ...args], { signal })) as T;
			} catch (raw) {
				const e = raw instanceof XapiError ? redactSession(annotate(raw, method, base), session) : raw;
				if (!recover || attempt > 0 || signal?.aborted || this.#credentials === undefined) throw e;
				if (isXapiError(e, XapiCode.SESSION_INVALID)) {
					await this.#recover(session, 'session');
					continue;
				}
				if (e instanceof XapiConnectionError) {
					await this.#recover(session, 'connection', e);
					// A write that may have reached the old master is not sent twice.
					if (e.notDelivered || isReadOnlyMethod(method)) continue;
				}
				throw e;
			}
		}
	}

	async getAllRecords<K extends XapiClassName>(cls: K): Promise<Record<Ref, RecordsByClass[K]>> {
		return this.call<Record<Ref, RecordsByClass[K]>>(`${cls}.get_all_records`);
	}

	/**
	 * Calls `Async.<method>` and waits for its task: resolves with the task's result, rejects
	 * with the `XapiError` of its `error_info`.
	 */
	async callAsync<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
		return this.callAsyncWith<T>({}, method, ...args);
	}

	/** `callAsync` with progress reports and cancellation (see `waitForTask`). */
	async callAsyncWith<T = unknown>(options: WaitForTaskOptions, method: string, ...args: unknown[]): Promise<T> {
		const task = await this.callWith<Ref>({ signal: options.signal }, `Async.${method}`, ...args);
		try {
			return (await waitForTask(this, task, options)) as T;
		} finally {
			// Finished tasks linger on the pool until destroyed; failing to tidy is harmless. A
			// cancelled wait leaves the task to finish cancelling on its own.
			if (!options.signal?.aborted) await this.call('task.destroy', task).catch(() => undefined);
		}
	}

	/**
	 * Logs in again (the pool forgot `staleSession`) or, when the master no longer answers,
	 * finds the new one among the members. Does nothing if the session already changed.
	 * Rejects when no member could be logged into.
	 */
	async reconnect(staleSession: Ref | undefined = this.#session, reason: 'session' | 'connection' = 'connection'): Promise<void> {
		await this.#recover(staleSession, reason);
	}

	/** Closes the session on the pool. Safe to call twice. */
	async logout(): Promise<void> {
		const session = this.#session;
		this.#logoutCount++;
		if (session === undefined) return;
		this.#session = undefined;
		try {
			await this.#transport('session.logout', [session]);
		} catch (e) {
			throw e instanceof XapiError ? redactSession(annotate(e, 'session.logout', this.#base), session) : e;
		}
	}

	async #askCredentials(why: string): Promise<Credentials> {
		if (this.#credentials === undefined) {
			throw new Error(`XapiClient: ${why} needs credentials: pass login(user, password) or a credentials callback`);
		}
		return this.#credentials();
	}

	#addMembers(addresses: Iterable<string>): void {
		for (const address of addresses) {
			if (typeof address === 'string' && address.trim() !== '') this.#members.add(withHost(this.#base, address.trim()).hostname);
		}
	}

	/** Best effort: a pool we cannot list hosts of still gave us a working session. */
	async #refreshMembers(): Promise<void> {
		try {
			const hosts = await this.callWith<Record<Ref, Pick<HostRecord, 'address'>>>({ recover: false }, 'host.get_all_records');
			this.setMemberAddresses(Object.values(hosts).map((h) => h.address));
		} catch {
			// keep what we knew
		}
	}

	#adopt(opened: OpenedSession): void {
		const moved = opened.base.host !== this.#base.host;
		this.#base = opened.base;
		this.#transport = opened.transport;
		this.#session = opened.session;
		this.#members.add(opened.base.hostname);
		if (moved) this.#onMasterChange?.(this.baseUrl);
	}

	/** Logs in at `base`, following `HOST_IS_SLAVE` to the master (once per host). */
	async #openSession(base: URL, transport: Transport, credentials: Credentials, signal?: AbortSignal): Promise<OpenedSession> {
		const tried = new Set<string>();
		for (;;) {
			tried.add(base.host);
			try {
				const session = (await transport('session.login_with_password', [credentials.user, credentials.password, API_VERSION, this.#originator], {
					signal
				})) as Ref;
				return { base, transport, session };
			} catch (e) {
				if (e instanceof XapiError) {
					annotate(e, 'session.login_with_password', base);
					// A pool member that is not the master names the master: retry there.
					const master = e.code === XapiCode.HOST_IS_SLAVE ? e.params[0] : undefined;
					if (master) {
						const next = withHost(base, master);
						if (!tried.has(next.host)) {
							base = next;
							transport = this.#makeTransport(next);
							continue;
						}
					}
				}
				throw e;
			}
		}
	}

	#recover(staleSession: Ref | undefined, reason: 'session' | 'connection', original?: XapiConnectionError): Promise<void> {
		// After logout() nothing logs back in behind the owner's back.
		if (this.#session === undefined || staleSession === undefined) return Promise.reject(new XapiError(XapiCode.SESSION_INVALID, ['(not logged in)'], { url: this.#base.origin }));
		if (this.#session !== staleSession) return Promise.resolve();
		this.#recovery ??= this.#runRecovery(staleSession, reason, original).finally(() => {
			this.#recovery = undefined;
		});
		return this.#recovery;
	}

	async #runRecovery(staleSession: Ref, reason: 'session' | 'connection', original?: XapiConnectionError): Promise<void> {
		const logoutCount = this.#logoutCount;
		const credentials = await this.#askCredentials(reason === 'session' ? 're-login after SESSION_INVALID' : 'master failover');
		let opened: OpenedSession | undefined;
		if (reason === 'session') {
			try {
				opened = await this.#openSession(this.#base, this.#transport, credentials);
			} catch (e) {
				if (!(e instanceof XapiConnectionError)) throw e;
				original = e;
			}
		}
		opened ??= await this.#failover(credentials, original);
		if (logoutCount !== this.#logoutCount) {
			await opened.transport('session.logout', [opened.session]).catch(() => undefined);
			throw new XapiError(XapiCode.SESSION_INVALID, ['(logged out during reconnection)']);
		}
		this.#adopt(opened);
		// A master that was only slow to answer still holds the old session: close it.
		if (reason === 'connection') void opened.transport('session.logout', [staleSession]).catch(() => undefined);
		await this.#refreshMembers();
	}

	/**
	 * Probes every known member at once (the current one too: it may only have restarted its
	 * toolstack) and keeps the first session opened on a master. Only "nobody answered" leads
	 * here; an XAPI error answer never does.
	 */
	async #failover(credentials: Credentials, original?: XapiConnectionError): Promise<OpenedSession> {
		const candidates = [...this.#members].map((hostname) => withHost(this.#base, hostname));
		const probes = candidates.map((base) => this.#probe(base, credentials));
		let winner: OpenedSession;
		try {
			winner = await Promise.any(probes);
		} catch (e) {
			const failures = e instanceof AggregateError ? (e.errors as unknown[]) : [e];
			// A member that refused us (bad credentials, say) says more than the silence of the
			// dead master; members naming each other as master mid-election do not.
			const answered = failures.find((f): f is XapiError => f instanceof XapiError && f.code !== XapiCode.HOST_IS_SLAVE);
			throw answered ?? original ?? failures[0] ?? new Error('no pool member to fail over to');
		}
		// Two members may both claim mastership mid-election: close the sessions we do not keep.
		for (const probe of probes) {
			void probe.then(
				(other) => (other.session === winner.session ? undefined : other.transport('session.logout', [other.session]).catch(() => undefined)),
				() => undefined
			);
		}
		return winner;
	}

	async #probe(base: URL, credentials: Credentials): Promise<OpenedSession> {
		const controller = new AbortController();
		const timer = setTimeout(
			() => controller.abort(new XapiConnectionError(base.origin, new Error(`no answer within ${this.#probeTimeoutMs} ms`))),
			this.#probeTimeoutMs
		);
		try {
			const transport = base.host === this.#base.host ? this.#transport : this.#makeTransport(base);
			// A transport that ignores the signal is still cut off by the race.
			const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason as Error)));
			const login = this.#openSession(base, transport, credentials, controller.signal);
			// A late success after the deadline still leaves a session on the pool: close it.
			login.then(
				(late) => (controller.signal.aborted ? late.transport('session.logout', [late.session]).catch(() => undefined) : undefined),
				() => undefined
			);
			return await Promise.race([login, aborted]);
		} finally {
			clearTimeout(timer);
		}
	}
}

function annotate(e: XapiError, method: string, base: URL): XapiError {
	e.call ??= method;
	e.url ??= base.origin;
	return e;
}
