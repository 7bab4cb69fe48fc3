import { randomUUID } from 'node:crypto';
import { HaMessage, XapiCode } from '../codes';
import { XapiError } from '../errors';
import { type HostRecord, type MessageRecord, type PoolRecord, type Ref, type Snapshot, type XapiClassName } from '../records';
import { SimClock } from './clock';
import { SimDatabase } from './database';
import { HaRuntime } from './ha-runtime';
import { refreshAllowedOperations } from './operations';
import { registerAllMethods } from './methods';
import { type Role, type Scenario, type SimUser } from './scenario-builder';
import { TaskManager, type TaskHandle } from './tasks';
import { roleAtLeast, rolesAllowed } from './rbac';

export interface SimSession {
	ref: Ref;
	user: string;
	role: Role;
	/** The host endpoint the session was opened on. */
	hostAddress: string;
	/** The `originator` the client sent at login (shown in session.get_record). */
	originator: string;
}

export interface CallContext {
	/** The loopback address the request arrived on: which host is being asked. */
	hostAddress: string;
}

export interface MethodContext extends CallContext {
	session: SimSession;
	pool: SimulatedPool;
	/** Set when the call runs inside `Async.…`: report progress and check for cancellation. */
	task?: TaskHandle;
}

export interface SimMethod {
	/** Parameter names after the session ref (their count is the arity). */
	params: readonly string[];
	/** Trailing parameters newer xapi versions added with defaults: clients may omit them. */
	optional?: readonly string[];
	/** The weakest role allowed to call it (from the datamodel's allowed_roles). */
	minRole: Role;
	/** Whether an `Async.` form exists (xapi generates one for every message that is not a getter). */
	async?: boolean;
	/** Whether the Async task can be cancelled. */
	cancellable?: boolean;
	run: (ctx: MethodContext, args: unknown[]) => unknown;
}

export interface SimulatedPoolOptions {
	password: string;
	/** XAPI delays a failed login to slow guessing (5 s on a real pool). */
	authFailureDelayMs?: number;
	/** Simulated seconds per real second (default 1). */
	speed?: number;
}

/** Severity numbers are xapi's (api_messages.ml): lower is more urgent. */
export const MESSAGE_PRIORITY: Record<string, number> = {
	[HaMessage.HA_HOST_FAILED]: 3,
	[HaMessage.HA_HOST_WAS_FENCED]: 4,
	[HaMessage.HA_PROTECTED_VM_RESTART_FAILED]: 2,
	[HaMessage.HA_POOL_OVERCOMMITTED]: 3,
	[HaMessage.HA_POOL_DROP_IN_PLAN_EXISTS_FOR]: 3,
	[HaMessage.HA_STATEFILE_LOST]: 2,
	[HaMessage.POOL_MASTER_TRANSITION]: 4
};

/**
 * The simulated pool: its database, clock, tasks, HA runtime and XAPI method table.
 * Transport-agnostic: the HTTP server (and in-process tests) hand it a method name and raw
 * arguments, and get back a value or an `XapiError` carrying XAPI's own code.
 */
export class SimulatedPool {
	readonly db: SimDatabase;
	readonly clock: SimClock;
	readonly tasks: TaskManager;
	readonly runtime: HaRuntime;
	readonly users: Map<string, SimUser>;
	readonly sessions = new Map<Ref, SimSession>();
	readonly methods = new Map<string, SimMethod>();
	readonly scenarioName: string;
	readonly #scenario: Scenario;
	#password: string;
	#authFailureDelayMs: number;
	#stopped = false;
	/** Resolves once every endpoint open/close requested so far is done (set by the HTTP server). */
	endpointsSettled: () => Promise<void> = () => Promise.resolve();

	constructor(scenario: Scenario, options: SimulatedPoolOptions) {
		this.db = new SimDatabase(structuredClone(scenario.snapshot));
		this.clock = new SimClock({ speed: options.speed ?? 1 });
		this.tasks = new TaskManager(this.db, this.clock);
		this.scenarioName = scenario.name;
		this.#scenario = scenario;
		this.users = new Map(scenario.users.map((u) => [u.name, u]));
		this.#password = options.password;
		this.#authFailureDelayMs = options.authFailureDelayMs ?? 500;
		this.runtime = new HaRuntime(this);
		registerAllMethods(this);
		this.#deriveFields();
	}

	get snapshot(): Snapshot {
		return this.db.snapshot;
	}

	get stopped(): boolean {
		return this.#stopped;
	}

	get poolRef(): Ref {
		const ref = Object.keys(this.snapshot.pool)[0];
		if (!ref) throw new Error('simulated pool has no pool record');
		return ref;
	}

	get poolRecord(): PoolRecord {
		const pool = this.snapshot.pool[this.poolRef];
		if (!pool) throw new Error('simulated pool has no pool record');
		return pool;
	}

	get masterRef(): Ref {
		return this.poolRecord.master;
	}

	get masterAddress(): string {
		const master = this.snapshot.host[this.masterRef];
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

	hostByAddress(address: string): [Ref, HostRecord] | undefined {
		for (const [ref, host] of Object.entries(this.snapshot.host)) if (host.address === address) return [ref, host];
		return undefined;
	}

	define(name: string, method: SimMethod): void {
		if (this.methods.has(name)) throw new Error(`simulated method ${name} defined twice`);
		this.methods.set(name, method);
	}

	/** Every callable name, as system.listMethods lists it (Async forms included). */
	listMethods(): string[] {
		const names = ['session.login_with_password', 'session.logout', 'system.listMethods'];
		for (const [name, m] of this.methods) {
			names.push(name);
			if (m.async) names.push(`Async.${name}`);
		}
		return names.sort();
	}

	async call(method: string, params: readonly unknown[], ctx: CallContext): Promise<unknown> {
		if (this.#stopped) throw new XapiError(XapiCode.INTERNAL_ERROR, ['the simulated pool is stopped']);
		if (method === 'session.login_with_password') return this.#login(params, ctx);
		if (method === 'session.logout') return this.#logout(params);
		if (method === 'system.listMethods') return this.listMethods();
		const isAsync = method.startsWith('Async.');
		const name = isAsync ? method.slice('Async.'.length) : method;
		const impl = this.methods.get(name);
		if (!impl || (isAsync && !impl.async)) throw new XapiError(XapiCode.MESSAGE_METHOD_UNKNOWN, [method]);
		const required = impl.params.length + 1;
		const most = required + (impl.optional?.length ?? 0);
		if (params.length < required || params.length > most) {
			throw new XapiError(XapiCode.MESSAGE_PARAMETER_COUNT_MISMATCH, [method, String(most), String(params.length)]);
		}
		const sessionRef = typeof params[0] === 'string' ? params[0] : String(params[0]);
		const session = this.sessions.get(sessionRef);
		if (!session) throw new XapiError(XapiCode.SESSION_INVALID, [sessionRef]);
		if (!roleAtLeast(session.role, impl.minRole)) {
			// xapi names the permission in lower case and lists the roles that hold it.
			throw new XapiError(XapiCode.RBAC_PERMISSION_DENIED, [
				name.toLowerCase(),
				`No permission in user session. (Roles with this permission: ${rolesAllowed(impl.minRole).join(', ')})`
			]);
		}
		// A slave serves a session's calls by asking its master; with the master gone it cannot.
		if (ctx.hostAddress !== this.masterAddress && !this.runtime.masterReachable) {
			throw new XapiError(XapiCode.CANNOT_CONTACT_HOST, [this.masterRef]);
		}
		const args = params.slice(1);
		if (!isAsync) return impl.run({ ...ctx, session, pool: this }, args);
		return this.tasks.start(
			method,
			this.masterRef,
			async (task) => {
				// The toolstack queues the operation before running it; a short simulated pause lets
				// clients see the task pending, as they would on a real pool.
				await this.clock.sleep(0.1);
				task.checkCancelled();
				return impl.run({ ...ctx, session, pool: this, task }, args);
			},
			{ cancellable: impl.cancellable ?? false }
		);
	}

	async #login(params: readonly unknown[], ctx: CallContext): Promise<Ref> {
		if (params.length < 2 || params.length > 4) {
			throw new XapiError(XapiCode.MESSAGE_PARAMETER_COUNT_MISMATCH, ['session.login_with_password', '4', String(params.length)]);
		}
		const [user, password, , originator] = params.map((p) => (typeof p === 'string' ? p : String(p)));
		if (ctx.hostAddress !== this.masterAddress || !this.runtime.masterReachable) {
			throw new XapiError(XapiCode.HOST_IS_SLAVE, [this.masterAddress]);
		}
		const known = user !== undefined ? this.users.get(user) : undefined;
		if (!known || password !== this.#password) {
			await new Promise((resolve) => setTimeout(resolve, this.#authFailureDelayMs));
			throw new XapiError(XapiCode.SESSION_AUTHENTICATION_FAILED, [user ?? '', 'Authentication failure']);
		}
		const ref = `OpaqueRef:${randomUUID()}`;
		this.sessions.set(ref, { ref, user: known.name, role: known.role, hostAddress: ctx.hostAddress, originator: originator ?? '' });
		return ref;
	}

	#logout(params: readonly unknown[]): string {
		if (params.length !== 1) throw new XapiError(XapiCode.MESSAGE_PARAMETER_COUNT_MISMATCH, ['session.logout', '1', String(params.length)]);
		const ref = String(params[0]);
		if (!this.sessions.delete(ref)) throw new XapiError(XapiCode.SESSION_INVALID, [ref]);
		this.db.wakeAll();
		return '';
	}

	/** What `session.get_record` shows: XAPI lists permissions as lower-cased method names. */
	sessionRecord(session: SimSession): Record<string, unknown> {
		const permissions = [...this.methods.entries()]
			.filter(([, m]) => roleAtLeast(session.role, m.minRole))
			.map(([name]) => name.toLowerCase());
		return {
			uuid: session.ref.replace('OpaqueRef:', ''),
			this_host: this.hostByAddress(session.hostAddress)?.[0] ?? 'OpaqueRef:NULL',
			this_user: 'OpaqueRef:NULL',
			pool: false,
			is_local_superuser: session.user === 'root',
			subject: 'OpaqueRef:NULL',
			auth_user_name: session.user,
			rbac_permissions: permissions,
			originator: session.originator,
			other_config: {}
		};
	}

	/**
	 * A new master starts from the replicated database, and sessions and tasks are not in it
	 * (the datamodel marks both PersistNothing): every session and task is gone.
	 */
	forgetVolatileState(): void {
		this.sessions.clear();
		for (const task of Object.keys(this.snapshot.task)) this.db.remove('task', task);
		this.db.wakeAll();
	}

	/** Raises an XAPI message (alert), visible to message.get_all_records and event.from. */
	addMessage(name: string, cls: 'Pool' | 'Host' | 'VM' | 'SR', objUuid: string, body: string): Ref {
		const ref = `OpaqueRef:${randomUUID()}`;
		const record: MessageRecord = {
			uuid: randomUUID(),
			name,
			priority: MESSAGE_PRIORITY[name] ?? 5,
			cls,
			obj_uuid: objUuid,
			timestamp: this.clock.isoNow(),
			body
		};
		this.db.add('message', ref, record);
		return ref;
	}

	/** Fields scenarios leave to the toolstack (allowed operations), filled as xapi would. */
	#deriveFields(): void {
		for (const vm of Object.keys(this.snapshot.VM)) refreshAllowedOperations(this, vm, false);
	}

	/** Real milliseconds every XAPI answer waits first: a slow pool (POST /control/latency). */
	responseDelayMs = 0;

	/**
	 * Puts the pool back to its scenario's initial state (records, faults, clock timers), keeping
	 * sessions so a logged-in console carries on. For tests and demos, via POST /control/reset.
	 */
	reset(): void {
		this.responseDelayMs = 0;
		this.db.replaceAll(structuredClone(this.#scenario.snapshot));
		this.#deriveFields();
		this.runtime.reset();
	}

	stop(): void {
		this.#stopped = true;
		this.clock.stop();
		this.runtime.stop();
		this.db.wakeAll();
	}
}

