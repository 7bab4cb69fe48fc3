import { randomUUID } from 'node:crypto';
import { XapiCode } from '../codes';
import { XapiError } from '../errors';
import { XAPI_CLASSES, type Ref, type Snapshot, type XapiClassName } from '../records';
import { ROLES, type Role, type Scenario, type SimUser } from './scenario-builder';

export interface SimSession {
	ref: Ref;
	user: string;
	role: Role;
	/** The host endpoint the session was opened on. */
	hostAddress: string;
}

export interface CallContext {
	/** The loopback address the request arrived on: which host is being asked. */
	hostAddress: string;
}

export interface MethodContext extends CallContext {
	session: SimSession;
	pool: SimulatedPool;
}

export interface SimMethod {
	/** Arguments after the session ref. */
	arity: number;
	/** The weakest role allowed to call it. */
	minRole: Role;
	run: (ctx: MethodContext, args: unknown[]) => unknown | Promise<unknown>;
}

export interface SimulatedPoolOptions {
	password: string;
	/** XAPI delays a failed login to slow guessing (5 s on a real pool). */
	authFailureDelayMs?: number;
}

function roleAtLeast(role: Role, min: Role): boolean {
	return ROLES.indexOf(role) <= ROLES.indexOf(min);
}

/**
 * The simulated pool's state and its XAPI method table. Transport-agnostic: the HTTP server
 * (and in-process tests) hand it a method name and raw arguments, and get back a value or an
 * `XapiError` carrying XAPI's own code.
 */
export class SimulatedPool {
	readonly snapshot: Snapshot;
	readonly users: Map<string, SimUser>;
	readonly sessions = new Map<Ref, SimSession>();
	readonly methods = new Map<string, SimMethod>();
	readonly scenarioName: string;
	#password: string;
	#authFailureDelayMs: number;

	constructor(scenario: Scenario, options: SimulatedPoolOptions) {
		this.snapshot = structuredClone(scenario.snapshot);
		this.scenarioName = scenario.name;
		this.users = new Map(scenario.users.map((u) => [u.name, u]));
		this.#password = options.password;
		this.#authFailureDelayMs = options.authFailureDelayMs ?? 500;
		this.#registerReaders();
	}

	get poolRef(): Ref {
		const ref = Object.keys(this.snapshot.pool)[0];
		if (!ref) throw new Error('simulated pool has no pool record');
		return ref;
	}

	get masterAddress(): string {
		const pool = this.snapshot.pool[this.poolRef];
		const master = pool ? this.snapshot.host[pool.master] : undefined;
		if (!master) throw new Error('simulated pool has no master');
		return master.address;
	}

	/** Every host's endpoint address, master first. */
	get hostAddresses(): string[] {
		const master = this.masterAddress;
		const others = Object.values(this.snapshot.host)
			.map((h) => h.address)
			.filter((a) => a !== master);
		return [master, ...others];
	}

	async call(method: string, params: readonly unknown[], ctx: CallContext): Promise<unknown> {
		if (method === 'session.login_with_password') return this.#login(params, ctx);
		if (method === 'session.logout') return this.#logout(params);
		const impl = this.methods.get(method);
		if (!impl) throw new XapiError(XapiCode.MESSAGE_METHOD_UNKNOWN, [method]);
		if (params.length !== impl.arity + 1) {
			throw new XapiError(XapiCode.MESSAGE_PARAMETER_COUNT_MISMATCH, [method, String(impl.arity + 1), String(params.length)]);
		}
		const session = this.sessions.get(String(params[0]));
		if (!session) throw new XapiError(XapiCode.SESSION_INVALID, [String(params[0])]);
		if (!roleAtLeast(session.role, impl.minRole)) {
			throw new XapiError(XapiCode.RBAC_PERMISSION_DENIED, [method, `The user's role (${session.role}) does not permit this operation.`]);
		}
		return impl.run({ ...ctx, session, pool: this }, params.slice(1));
	}

	async #login(params: readonly unknown[], ctx: CallContext): Promise<Ref> {
		if (params.length < 2 || params.length > 4) {
			throw new XapiError(XapiCode.MESSAGE_PARAMETER_COUNT_MISMATCH, ['session.login_with_password', '4', String(params.length)]);
		}
		const [user, password] = params.map(String);
		if (ctx.hostAddress !== this.masterAddress) throw new XapiError(XapiCode.HOST_IS_SLAVE, [this.masterAddress]);
		const known = user !== undefined ? this.users.get(user) : undefined;
		if (!known || password !== this.#password) {
			await new Promise((resolve) => setTimeout(resolve, this.#authFailureDelayMs));
			throw new XapiError(XapiCode.SESSION_AUTHENTICATION_FAILED, [user ?? '', 'Authentication failure']);
		}
		const ref = `OpaqueRef:${randomUUID()}`;
		this.sessions.set(ref, { ref, user: known.name, role: known.role, hostAddress: ctx.hostAddress });
		return ref;
	}

	#logout(params: readonly unknown[]): string {
		if (params.length !== 1) throw new XapiError(XapiCode.MESSAGE_PARAMETER_COUNT_MISMATCH, ['session.logout', '1', String(params.length)]);
		const ref = String(params[0]);
		if (!this.sessions.delete(ref)) throw new XapiError(XapiCode.SESSION_INVALID, [ref]);
		return '';
	}

	/** What `session.get_record` shows: XAPI lists permissions as lower-cased method names. */
	sessionRecord(session: SimSession): Record<string, unknown> {
		const permissions = [...this.methods.entries()]
			.filter(([, m]) => roleAtLeast(session.role, m.minRole))
			.map(([name]) => name.toLowerCase());
		return {
			uuid: session.ref.replace('OpaqueRef:', ''),
			this_host: Object.entries(this.snapshot.host).find(([, h]) => h.address === session.hostAddress)?.[0] ?? 'OpaqueRef:NULL',
			this_user: 'OpaqueRef:NULL',
			pool: false,
			is_local_superuser: session.user === 'root',
			subject: 'OpaqueRef:NULL',
			auth_user_name: session.user,
			rbac_permissions: permissions,
			originator: '',
			other_config: {}
		};
	}

	#registerReaders(): void {
		this.methods.set('session.get_record', {
			arity: 1,
			minRole: 'read-only',
			run: (ctx, [ref]) => {
				// A session may read its own record only; others' refs are not handles it owns.
				if (ref !== ctx.session.ref) throw new XapiError(XapiCode.HANDLE_INVALID, ['session', String(ref)]);
				return this.sessionRecord(ctx.session);
			}
		});
		for (const cls of XAPI_CLASSES) {
			this.methods.set(`${cls}.get_all_records`, {
				arity: 0,
				minRole: 'read-only',
				run: () => structuredClone(this.snapshot[cls as XapiClassName])
			});
		}
	}
}
