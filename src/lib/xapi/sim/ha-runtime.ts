/**
 * What a pool does when hosts fail, in simulated time (xapi_ha.ml, xapi_ha_vm_failover.ml and
 * the xHA daemon's liveness rules, reduced to what a console can observe):
 *
 * - A host stops heartbeating when it fails (power loss) or loses its network. After the HA
 *   timeout T (pool.ha_configuration.timeout, default 60 s) the survivors declare it dead.
 * - An isolated host that is still up sees, through the statefile, that the others are alive
 *   and it is in the smaller partition: it fences itself (reboots) at T, so its VMs die too.
 * - Without the statefile a partition survives only with a strict majority of the pool's hosts;
 *   otherwise it fences as well.
 * - When a host is declared dead: HA_HOST_FAILED, its VMs are Halted, the master (a newly
 *   elected one if the master died) restarts protected VMs by ascending order group, waiting
 *   each group's start_delay, then best-effort VMs if memory allows. A protected VM that cannot
 *   be placed raises HA_PROTECTED_VM_RESTART_FAILED and is retried every 120 s.
 * - After every change the pool re-plans (update_pool_status): ha_plan_exists_for,
 *   ha_overcommitted, HA_POOL_OVERCOMMITTED and HA_POOL_DROP_IN_PLAN_EXISTS_FOR.
 *
 * Without HA the master still notices a silent host after T and marks it not live, but nothing
 * is restarted and a dead master is not replaced: that is what HA is for.
 */
import { HaMessage } from '../codes';
import type { Ref } from '../records';
import type { SimTimer } from './clock';
import { bootVm, cannotBootHere, chooseHost, haltVm, isProtected, refreshMemory, restartOrder } from './operations';
import { planExistsFor, toolstackFailoverPlan, toolstackMaxFailuresToTolerate } from './planning';
import type { SimulatedPool } from './pool';

/** up: running and connected; down: powered off; isolated: up but its network is cut; fenced: rebooted itself and waits. */
export type HostCondition = 'up' | 'down' | 'isolated' | 'fenced';

export const DEFAULT_HA_TIMEOUT_S = 60;
export const MIN_HA_TIMEOUT_S = 10;
/** xapi waits at least this long between attempts to restart a protected VM. */
export const RESTART_RETRY_S = 120;

interface HostRuntime {
	condition: HostCondition;
	/** Set once the survivors have declared the host dead (host_metrics.live false). */
	declaredDead: boolean;
	detection?: SimTimer;
}

export type EndpointListener = (address: string, up: boolean) => void;

export class HaRuntime {
	readonly #pool: SimulatedPool;
	readonly #hosts = new Map<Ref, HostRuntime>();
	readonly #endpointListeners = new Set<EndpointListener>();
	readonly #retries = new Map<Ref, SimTimer>();
	readonly #restartAlerted = new Set<Ref>();
	#statefileOk = true;
	#restartChain: Promise<void> = Promise.resolve();
	#stopped = false;
	/** Bumped by `reset`: restarts begun before it stop at their next step. */
	#epoch = 0;

	constructor(pool: SimulatedPool) {
		this.#pool = pool;
		this.#loadHosts();
	}

	#loadHosts(): void {
		for (const [ref, host] of Object.entries(this.#pool.snapshot.host)) {
			const live = this.#pool.snapshot.host_metrics[host.metrics]?.live ?? false;
			this.#hosts.set(ref, { condition: live ? 'up' : 'down', declaredDead: !live });
		}
	}

	/**
	 * Forgets every fault and pending timer after the pool's records were reset to a scenario:
	 * hosts are as the records say, the statefile is fine, endpoints open or close to match.
	 */
	reset(): void {
		const before = new Map([...this.#hosts].map(([ref, state]) => [ref, state.condition === 'up']));
		for (const state of this.#hosts.values()) this.#pool.clock.cancel(state.detection);
		for (const timer of this.#retries.values()) this.#pool.clock.cancel(timer);
		this.#retries.clear();
		this.#restartAlerted.clear();
		this.#hosts.clear();
		this.#epoch += 1;
		this.#statefileOk = true;
		this.#loadHosts();
		for (const [ref, state] of this.#hosts) {
			const up = state.condition === 'up';
			const address = this.#pool.snapshot.host[ref]?.address;
			if (address && before.get(ref) !== up) for (const listener of this.#endpointListeners) listener(address, up);
		}
	}

	get statefileOk(): boolean {
		return this.#statefileOk;
	}

	/** Whether a login on the master's address can be answered (its endpoint is listening). */
	get masterReachable(): boolean {
		return this.hostIsUp(this.#pool.masterRef);
	}

	get timeoutSeconds(): number {
		const raw = Number(this.#pool.poolRecord.ha_configuration['timeout']);
		return Number.isFinite(raw) && raw >= MIN_HA_TIMEOUT_S ? raw : DEFAULT_HA_TIMEOUT_S;
	}

	condition(host: Ref): HostCondition | undefined {
		return this.#hosts.get(host)?.condition;
	}

	hostIsUp(host: Ref): boolean {
		return this.#hosts.get(host)?.condition === 'up';
	}

	/** Whether the endpoint at `address` listens: its host is up and reachable. */
	endpointUp(address: string): boolean {
		const found = this.#pool.hostByAddress(address);
		return found ? this.hostIsUp(found[0]) : false;
	}

	onEndpointChange(listener: EndpointListener): () => void {
		this.#endpointListeners.add(listener);
		return () => this.#endpointListeners.delete(listener);
	}

	/** Resolves when every restart started so far has finished (for tests and the control state). */
	settled(): Promise<void> {
		return this.#restartChain;
	}

	// ---- Fault injection (the control endpoint and CLI flags call these) ----

	/** The host loses power: endpoint gone at once, declared dead after T. */
	failHost(host: Ref): void {
		this.#setCondition(host, 'down');
		this.#scheduleDetection(host);
	}

	/** The host's network is cut: endpoint unreachable; with HA it fences itself after T. */
	isolateHost(host: Ref): void {
		this.#setCondition(host, 'isolated');
		this.#scheduleDetection(host);
	}

	failMaster(): Ref {
		const master = this.#pool.masterRef;
		this.failHost(master);
		return master;
	}

	/** Power or network back: the host rejoins the pool, as a slave if a new master was elected. */
	recoverHost(host: Ref): void {
		const state = this.#hosts.get(host);
		if (!state || state.condition === 'up') return;
		this.#pool.clock.cancel(state.detection);
		state.detection = undefined;
		const rebooted = state.condition === 'down' || state.condition === 'fenced';
		// A powered-off host cannot be back before T (a boot takes longer than any timeout):
		// the pool settles its death first, then takes it back.
		if (state.condition === 'down' && !state.declaredDead) this.#detect(host);
		const wasFenced = state.condition === 'fenced';
		this.#setCondition(host, 'up');
		// Its VMs did not survive the reboot: xapi resets them to Halted when it starts.
		if (rebooted) {
			for (const vmRef of [...(this.#pool.snapshot.host[host]?.resident_VMs ?? [])]) {
				if (this.#pool.snapshot.VM[vmRef]?.is_control_domain === false) haltVm(this.#pool, vmRef);
			}
		}
		if (!state.declaredDead) return; // a network blip shorter than T: nothing happened
		state.declaredDead = false;
		const record = this.#pool.snapshot.host[host];
		if (!record) return;
		const metrics = this.#pool.snapshot.host_metrics[record.metrics];
		if (metrics) {
			metrics.live = true;
			metrics.last_updated = this.#pool.clock.isoNow();
			this.#pool.db.touch('host_metrics', record.metrics);
		}
		if (wasFenced && this.#pool.poolRecord.ha_enabled) {
			this.#pool.addMessage(HaMessage.HA_HOST_WAS_FENCED, 'Host', record.uuid, `Server '${record.name_label}' was fenced by HA to protect VM data and has rejoined the pool`);
		}
		// A pool left without any master (every host died) takes the first host back as master.
		if (!this.hostIsUp(this.#pool.masterRef) && this.#pool.masterRef !== host) this.#electMaster();
		this.#updateAfterChange();
	}

	breakStatefile(): void {
		if (!this.#statefileOk) return;
		this.#statefileOk = false;
		const pool = this.#pool.poolRecord;
		if (pool.ha_enabled) {
			this.#pool.addMessage(HaMessage.HA_STATEFILE_LOST, 'Pool', pool.uuid, 'All live servers have lost access to the HA statefile');
			for (const [ref, host] of Object.entries(this.#pool.snapshot.host)) {
				if (host.ha_statefiles.length === 0) continue;
				host.ha_statefiles = [];
				this.#pool.db.touch('host', ref);
			}
		}
	}

	repairStatefile(): void {
		if (this.#statefileOk) return;
		this.#statefileOk = true;
		const pool = this.#pool.poolRecord;
		if (!pool.ha_enabled) return;
		for (const [ref, host] of Object.entries(this.#pool.snapshot.host)) {
			if (!this.hostIsUp(ref)) continue;
			host.ha_statefiles = [...pool.ha_statefiles];
			this.#pool.db.touch('host', ref);
		}
	}

	// ---- Pool status (xapi_ha_vm_failover.update_pool_status) ----

	/**
	 * Re-plans after a change while HA is on: keeps ha_plan_exists_for and ha_overcommitted
	 * true to what the planner says and raises the transition messages xapi raises.
	 */
	updatePoolStatus(): void {
		const poolRef = this.#pool.poolRef;
		const pool = this.#pool.poolRecord;
		if (!pool.ha_enabled) return;
		const snapshot = this.#pool.snapshot;
		const toTolerate = pool.ha_host_failures_to_tolerate;
		const plannedFor = pool.ha_plan_exists_for;
		if (planExistsFor(snapshot, toTolerate)) {
			let changed = false;
			if (pool.ha_overcommitted) {
				pool.ha_overcommitted = false;
				changed = true;
			}
			if (plannedFor !== toTolerate) {
				pool.ha_plan_exists_for = toTolerate;
				changed = true;
			}
			if (changed) this.#pool.db.touch('pool', poolRef);
			return;
		}
		const max = toolstackMaxFailuresToTolerate(snapshot);
		if (plannedFor !== max) {
			pool.ha_plan_exists_for = Math.min(toTolerate, max);
			this.#pool.db.touch('pool', poolRef);
			if (max < plannedFor) this.#pool.addMessage(HaMessage.HA_POOL_DROP_IN_PLAN_EXISTS_FOR, 'Pool', pool.uuid, String(max));
		}
		if (!pool.ha_overcommitted) {
			pool.ha_overcommitted = true;
			this.#pool.db.touch('pool', poolRef);
			this.#pool.addMessage(
				HaMessage.HA_POOL_OVERCOMMITTED,
				'Pool',
				pool.uuid,
				`The failover tolerance for pool '${pool.name_label}' has dropped and the initially specified number of host failures to tolerate can no longer be guaranteed`
			);
		}
	}

	/** HA was disabled: pending restarts stop; liveness detection stays (the master still watches). */
	haDisabled(): void {
		for (const timer of this.#retries.values()) this.#pool.clock.cancel(timer);
		this.#retries.clear();
	}

	/** host.emergency_ha_disable on `host`: a fenced or isolated host stops waiting for HA. */
	emergencyDisable(host: Ref): void {
		const state = this.#hosts.get(host);
		if (!state) return;
		this.#pool.clock.cancel(state.detection);
		state.detection = undefined;
	}

	stop(): void {
		this.#stopped = true;
		for (const state of this.#hosts.values()) this.#pool.clock.cancel(state.detection);
		for (const timer of this.#retries.values()) this.#pool.clock.cancel(timer);
		this.#retries.clear();
	}

	/** A summary for GET /control/state. */
	describe(): { ref: Ref; name: string; address: string; condition: HostCondition; live: boolean; enabled: boolean; master: boolean; detectionDueInSeconds: number | null }[] {
		const now = this.#pool.clock.now();
		return Object.entries(this.#pool.snapshot.host).map(([ref, host]) => {
			const state = this.#hosts.get(ref);
			return {
				ref,
				name: host.name_label,
				address: host.address,
				condition: state?.condition ?? 'down',
				live: this.#pool.snapshot.host_metrics[host.metrics]?.live ?? false,
				enabled: host.enabled,
				master: ref === this.#pool.masterRef,
				detectionDueInSeconds: state?.detection ? Math.max(0, (state.detection.due - now) / 1000) : null
			};
		});
	}

	// ---- Internals ----

	#setCondition(host: Ref, condition: HostCondition): void {
		const state = this.#hosts.get(host);
		if (!state) throw new Error(`unknown host ${host}`);
		const wasUp = state.condition === 'up';
		state.condition = condition;
		const address = this.#pool.snapshot.host[host]?.address;
		if (address && wasUp !== (condition === 'up')) for (const listener of this.#endpointListeners) listener(address, condition === 'up');
	}

	#scheduleDetection(host: Ref): void {
		const state = this.#hosts.get(host);
		if (!state || state.declaredDead) return;
		this.#pool.clock.cancel(state.detection);
		state.detection = this.#pool.clock.after(this.timeoutSeconds, () => {
			state.detection = undefined;
			this.#detect(host);
		});
	}

	/** T has passed since `host` went silent: settle who lives, as xHA's liveset would. */
	#detect(host: Ref): void {
		if (this.#stopped) return;
		const state = this.#hosts.get(host);
		if (!state || state.condition === 'up') return;
		const haOn = this.#pool.poolRecord.ha_enabled;
		if (!haOn) {
			// The master stops hearing from it: not live, but its VMs are left as they were.
			this.#markNotLive(host);
			state.declaredDead = true;
			this.#updateAfterChange();
			return;
		}
		if (state.condition === 'isolated') this.#setCondition(host, 'fenced');
		const dead = [host];
		// Without the statefile, survivors need a strict majority of the pool or they fence too.
		const survivors = [...this.#hosts.entries()].filter(([, s]) => s.condition === 'up').map(([r]) => r);
		if (!this.#statefileOk && survivors.length * 2 <= this.#hosts.size) {
			for (const r of survivors) {
				this.#setCondition(r, 'fenced');
				dead.push(r);
			}
		}
		this.#declareDead(dead);
	}

	#markNotLive(host: Ref): void {
		const record = this.#pool.snapshot.host[host];
		const metrics = record ? this.#pool.snapshot.host_metrics[record.metrics] : undefined;
		if (!record || !metrics || !metrics.live) return;
		metrics.live = false;
		metrics.last_updated = this.#pool.clock.isoNow();
		this.#pool.db.touch('host_metrics', record.metrics);
	}

	#declareDead(hosts: Ref[]): void {
		const snap = this.#pool.snapshot;
		const failedVms: Ref[] = [];
		for (const host of hosts) {
			const state = this.#hosts.get(host);
			const record = snap.host[host];
			if (!state || !record) continue;
			state.declaredDead = true;
			this.#markNotLive(host);
			this.#pool.addMessage(HaMessage.HA_HOST_FAILED, 'Host', record.uuid, `Server '${record.name_label}' has failed`);
			for (const vmRef of [...record.resident_VMs]) {
				const vm = snap.VM[vmRef];
				if (!vm || vm.is_control_domain) continue;
				haltVm(this.#pool, vmRef);
				failedVms.push(vmRef);
			}
		}
		refreshMemory(this.#pool);
		if (hosts.includes(this.#pool.masterRef)) this.#electMaster();
		if (!this.hostIsUp(this.#pool.masterRef)) return; // nobody left to restart anything
		this.#enqueueRestart(hosts, failedVms);
	}

	/** The survivors pick a new master through the statefile: the first live host in pool order. */
	#electMaster(): void {
		const snap = this.#pool.snapshot;
		const candidate = Object.keys(snap.host).find((r) => this.hostIsUp(r) && !this.#hosts.get(r)?.declaredDead);
		if (!candidate) return;
		const poolRef = this.#pool.poolRef;
		const pool = this.#pool.poolRecord;
		if (pool.master === candidate) return;
		pool.master = candidate;
		this.#pool.db.touch('pool', poolRef);
		const record = snap.host[candidate];
		if (record) this.#pool.addMessage(HaMessage.POOL_MASTER_TRANSITION, 'Host', record.uuid, `The host '${record.name_label}' is now the pool master`);
		// Sessions and tasks lived in the old master's memory: clients log in again on the new one.
		this.#pool.forgetVolatileState();
	}

	/** Restarts run one failure after another, never interleaved, as the master's restart thread does. */
	#enqueueRestart(failedHosts: Ref[], vms: Ref[]): void {
		this.#restartChain = this.#restartChain.then(() => this.#restart(failedHosts, vms)).catch((e: unknown) => console.error('sim: HA restart failed', e));
	}

	async #restart(failedHosts: Ref[], vms: Ref[]): Promise<void> {
		const snap = this.#pool.snapshot;
		const epoch = this.#epoch;
		const cancelled = () => this.#stopped || epoch !== this.#epoch || !this.#pool.poolRecord.ha_enabled;
		const protectedVms = vms.filter((r) => {
			const vm = snap.VM[r];
			return !!vm && isProtected(vm);
		});
		const bestEffort = vms.filter((r) => snap.VM[r]?.ha_restart_priority === 'best-effort');
		// The plan the toolstack would follow; a VM is still placed elsewhere if its planned host
		// no longer fits by the time its group starts (xapi falls back the same way).
		let plan: Record<Ref, { host: Ref } | { error_code: string }> = {};
		try {
			plan = toolstackFailoverPlan(snap, failedHosts, protectedVms);
		} catch (e) {
			console.error('sim: failover plan failed', e);
		}
		const groups = new Map<number, Ref[]>();
		for (const r of protectedVms) {
			const vm = snap.VM[r];
			if (!vm) continue;
			const order = restartOrder(vm);
			groups.set(order, [...(groups.get(order) ?? []), r]);
		}
		for (const order of [...groups.keys()].sort((a, b) => a - b)) {
			if (cancelled()) return;
			const group = groups.get(order) ?? [];
			let delay = 0;
			for (const vmRef of group) {
				const planned = plan[vmRef];
				this.#restartOne(vmRef, planned && 'host' in planned ? planned.host : undefined);
				delay = Math.max(delay, snap.VM[vmRef]?.start_delay ?? 0);
			}
			if (delay > 0) await this.#pool.clock.sleep(delay);
		}
		for (const vmRef of bestEffort) {
			if (cancelled()) return;
			const choice = chooseHost(this.#pool, vmRef);
			if ('host' in choice) bootVm(this.#pool, vmRef, choice.host);
		}
		this.#updateAfterChange();
	}

	/** One protected VM: its planned host if it still fits, else any host, else a message and a retry. */
	#restartOne(vmRef: Ref, planned: Ref | undefined): void {
		const vm = this.#pool.snapshot.VM[vmRef];
		// Someone may have started it, shut it down for good or unprotected it meanwhile.
		if (!vm || vm.power_state !== 'Halted' || !isProtected(vm)) return;
		let host = planned && !cannotBootHere(this.#pool, vmRef, planned) ? planned : undefined;
		if (!host) {
			const choice = chooseHost(this.#pool, vmRef);
			if ('host' in choice) host = choice.host;
		}
		if (host) {
			this.#pool.clock.cancel(this.#retries.get(vmRef));
			this.#retries.delete(vmRef);
			this.#restartAlerted.delete(vmRef);
			bootVm(this.#pool, vmRef, host);
			return;
		}
		// xapi alerts once per VM (with an empty body) until it is restarted, then retries quietly.
		if (!this.#restartAlerted.has(vmRef)) {
			this.#restartAlerted.add(vmRef);
			this.#pool.addMessage(HaMessage.HA_PROTECTED_VM_RESTART_FAILED, 'VM', vm.uuid, '');
		}
		this.#pool.clock.cancel(this.#retries.get(vmRef));
		this.#retries.set(
			vmRef,
			this.#pool.clock.after(RESTART_RETRY_S, () => {
				this.#retries.delete(vmRef);
				if (this.#stopped || !this.#pool.poolRecord.ha_enabled) return;
				this.#restartChain = this.#restartChain
					.then(() => {
						this.#restartOne(vmRef, undefined);
						this.#updateAfterChange();
					})
					.catch((e: unknown) => console.error('sim: HA restart retry failed', e));
			})
		);
	}

	#updateAfterChange(): void {
		try {
			this.updatePoolStatus();
		} catch (e) {
			console.error('sim: update_pool_status failed', e);
		}
	}
}

