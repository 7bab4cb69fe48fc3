import { poolBaseUrl, withHost } from './address';
import { XapiCode } from './codes';
import { XapiError } from './errors';
import type { RecordsByClass, Ref, XapiClassName } from './records';
import { jsonRpcTransport, type Transport } from './transport';

export type TransportFactory = (baseUrl: URL) => Transport;

export interface XapiClientOptions {
	/** Pool master address as the admin typed it (see `poolBaseUrl`). */
	address: string;
	transport?: TransportFactory;
	/** Sent as `originator` at login so the pool's logs say who connected. */
	originator?: string;
}

const API_VERSION = '1.0';

/**
 * A typed XAPI client. It holds the session ref it was given by the pool but never the
 * password after login: keeping credentials (for re-login) is the server session store's job.
 */
export class XapiClient {
	#base: URL;
	#transport: Transport;
	readonly #makeTransport: TransportFactory;
	readonly #originator: string;
	#session: Ref | undefined;

	constructor(options: XapiClientOptions) {
		this.#base = poolBaseUrl(options.address);
		this.#makeTransport = options.transport ?? ((url) => jsonRpcTransport(url.toString(), { timeoutMs: 60_000 }));
		this.#transport = this.#makeTransport(this.#base);
		this.#originator = options.originator ?? 'haven';
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

	async login(user: string, password: string): Promise<void> {
		const tried = new Set<string>();
		for (;;) {
			tried.add(this.#base.host);
			try {
				this.#session = (await this.#transport('session.login_with_password', [user, password, API_VERSION, this.#originator])) as Ref;
				return;
			} catch (e) {
				// A pool member that is not the master names the master: retry there, once per host.
				if (e instanceof XapiError && e.code === XapiCode.HOST_IS_SLAVE && e.params[0]) {
					const next = withHost(this.#base, e.params[0]);
					if (!tried.has(next.host)) {
						this.#switchTo(next);
						continue;
					}
				}
				throw e;
			}
		}
	}

	/** Calls `method` with the session ref prepended. */
	async call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
		if (this.#session === undefined) throw new XapiError(XapiCode.SESSION_INVALID, [], { call: method });
		try {
			return (await this.#transport(method, [this.#session, ...args])) as T;
		} catch (e) {
			if (e instanceof XapiError) {
				e.call ??= method;
				e.url ??= this.#base.origin;
			}
			throw e;
		}
	}

	async getAllRecords<K extends XapiClassName>(cls: K): Promise<Record<Ref, RecordsByClass[K]>> {
		return this.call<Record<Ref, RecordsByClass[K]>>(`${cls}.get_all_records`);
	}

	/** Closes the session on the pool. Safe to call twice. */
	async logout(): Promise<void> {
		const session = this.#session;
		if (session === undefined) return;
		this.#session = undefined;
		await this.#transport('session.logout', [session]);
	}

	#switchTo(base: URL): void {
		this.#base = base;
		this.#transport = this.#makeTransport(base);
	}
}
