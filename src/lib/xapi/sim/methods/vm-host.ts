/**
 * VM and host operations Haven drives: restart-priority setters with xapi's plan guard, power
 * operations, agility, host enable/disable, master designation and the emergency HA switch.
 */
import { HaMessage, XapiCode } from '../../codes';
import { XapiError } from '../../errors';
import type { Ref } from '../../records';
import { bool, int, ref, str } from '../args';
import { bootVm, cannotBootHere, chooseHost, haltVm, isProtected } from '../operations';
import { vmAgility } from '../planning';
import type { SimulatedPool } from '../pool';
import { assertChangePreservesPlan } from './plan-guard';

/** Constants.ha_valid_restart_priorities: the legacy "0".."3" are no longer accepted by the setter. */
export const VALID_RESTART_PRIORITIES: readonly string[] = ['restart', 'best-effort', ''];

function assertAgile(pool: SimulatedPool, vm: Ref): void {
	const agility = vmAgility(pool.snapshot, vm);
	if (!agility.agile) throw new XapiError(agility.code, agility.params);
}

function powerStateError(vm: Ref, expected: string, actual: string): XapiError {
	return new XapiError(XapiCode.VM_BAD_POWER_STATE, [vm, expected, actual.toLowerCase()]);
}

export function registerVmHostMethods(pool: SimulatedPool): void {
	const db = pool.db;

	pool.define('VM.assert_agile', {
		params: ['self'],
		minRole: 'read-only',
		async: true,
		run: (_ctx, [self]) => {
			assertAgile(pool, ref(db, 'VM', self, 'self')[0]);
			return '';
		}
	});

	pool.define('VM.set_ha_restart_priority', {
		params: ['self', 'value'],
		minRole: 'pool-operator',
		async: true,
		run: (_ctx, [self, value]) => {
			const [vmRef, vm] = ref(db, 'VM', self, 'self');
			const priority = str(value, 'value');
			if (!VALID_RESTART_PRIORITIES.includes(priority)) throw new XapiError(XapiCode.INVALID_VALUE, ['ha_restart_priority', priority]);
			const becomesProtected = vm.ha_restart_priority !== 'restart' && priority === 'restart';
			if (becomesProtected) {
				if (vm.power_state !== 'Halted') {
					assertChangePreservesPlan(pool, (copy) => {
						const v = copy.VM[vmRef];
						if (v) v.ha_restart_priority = 'restart';
					});
				}
				// The reference: a VM that cannot run everywhere is never protected while HA is on.
				if (pool.poolRecord.ha_enabled) assertAgile(pool, vmRef);
			}
			if (vm.ha_restart_priority !== priority) {
				vm.ha_restart_priority = priority;
				// A running VM gains or loses protection at once (ha_always_run follows the priority).
				if (vm.power_state === 'Running') vm.ha_always_run = priority === 'restart';
				db.touch('VM', vmRef);
				pool.runtime.updatePoolStatus();
			}
			return '';
		}
	});

	for (const [field, method] of [
		['order', 'VM.set_order'],
		['start_delay', 'VM.set_start_delay']
	] as const) {
		pool.define(method, {
			params: ['self', 'value'],
			minRole: 'pool-operator',
			async: true,
			run: (_ctx, [self, value]) => {
				const [vmRef, vm] = ref(db, 'VM', self, 'self');
				const n = int(value, 'value');
				if (n < 0) throw new XapiError(XapiCode.INVALID_VALUE, [field, String(n)]);
				vm[field] = n;
				db.touch('VM', vmRef);
				return '';
			}
		});
	}

	const startChecks = (vmRef: Ref) => {
		const vm = pool.snapshot.VM[vmRef];
		if (!vm) throw new XapiError(XapiCode.HANDLE_INVALID, ['VM', vmRef]);
		if (vm.is_a_template || vm.is_control_domain) throw new XapiError(XapiCode.OPERATION_NOT_ALLOWED, [`VM ${vmRef} is a template or control domain and cannot be started`]);
		if (vm.power_state !== 'Halted') throw powerStateError(vmRef, 'halted', vm.power_state);
		if (isProtected(vm)) {
			assertChangePreservesPlan(pool, (copy) => {
				const v = copy.VM[vmRef];
				if (v) v.power_state = 'Running';
			});
		}
		return vm;
	};
	const started = (vmRef: Ref) => {
		const vm = pool.snapshot.VM[vmRef];
		if (vm && isProtected(vm) && !vm.ha_always_run) {
			vm.ha_always_run = true;
			db.touch('VM', vmRef);
		}
		pool.runtime.updatePoolStatus();
		return '';
	};

	pool.define('VM.start', {
		cancellable: true,
		params: ['vm', 'start_paused', 'force'],
		minRole: 'vm-operator',
		async: true,
		run: (_ctx, [vmArg, paused, force]) => {
			const [vmRef] = ref(db, 'VM', vmArg, 'vm');
			const startPaused = bool(paused, 'start_paused');
			bool(force, 'force');
			startChecks(vmRef);
			const choice = chooseHost(pool, vmRef);
			if ('error' in choice) throw choice.error;
			bootVm(pool, vmRef, choice.host, startPaused);
			return started(vmRef);
		}
	});

	pool.define('VM.start_on', {
		cancellable: true,
		params: ['vm', 'host', 'start_paused', 'force'],
		minRole: 'vm-power-admin',
		async: true,
		run: (_ctx, [vmArg, hostArg, paused, force]) => {
			const [vmRef] = ref(db, 'VM', vmArg, 'vm');
			const [hostRef] = ref(db, 'host', hostArg, 'host');
			const startPaused = bool(paused, 'start_paused');
			bool(force, 'force');
			startChecks(vmRef);
			const why = cannotBootHere(pool, vmRef, hostRef);
			if (why) throw why;
			bootVm(pool, vmRef, hostRef, startPaused);
			return started(vmRef);
		}
	});

	pool.define('VM.clean_shutdown', {
		cancellable: true,
		params: ['vm'],
		minRole: 'vm-operator',
		async: true,
		run: async (ctx, [vmArg]) => {
			const [vmRef, vm] = ref(db, 'VM', vmArg, 'vm');
			if (vm.power_state !== 'Running') throw powerStateError(vmRef, 'running', vm.power_state);
			// The guest takes a moment to shut down; meanwhile it is still Running.
			await pool.clock.sleep(2);
			ctx.task?.checkCancelled();
			if (vm.power_state !== 'Running') throw powerStateError(vmRef, 'running', vm.power_state);
			haltVm(pool, vmRef);
			// A VM shut down on purpose is not restarted by HA.
			if (vm.ha_always_run) {
				vm.ha_always_run = false;
				db.touch('VM', vmRef);
			}
			pool.runtime.updatePoolStatus();
			return '';
		}
	});

	pool.define('host.disable', {
		params: ['host'],
		optional: ['auto_enable'],
		minRole: 'pool-operator',
		async: true,
		run: (_ctx, [hostArg, autoEnable]) => {
			const [hostRef, host] = ref(db, 'host', hostArg, 'host');
			if (autoEnable !== undefined) bool(autoEnable, 'auto_enable');
			assertChangePreservesPlan(pool, (copy) => {
				const h = copy.host[hostRef];
				if (h) h.enabled = false;
			});
			if (host.enabled) {
				host.enabled = false;
				db.touch('host', hostRef);
				pool.runtime.updatePoolStatus();
			}
			return '';
		}
	});

	pool.define('host.enable', {
		params: ['host'],
		minRole: 'pool-operator',
		async: true,
		run: (_ctx, [hostArg]) => {
			const [hostRef, host] = ref(db, 'host', hostArg, 'host');
			if (!pool.runtime.hostIsUp(hostRef)) throw new XapiError(XapiCode.HOST_OFFLINE, [hostRef]);
			if (!host.enabled) {
				host.enabled = true;
				db.touch('host', hostRef);
				pool.runtime.updatePoolStatus();
			}
			return '';
		}
	});

	pool.define('pool.designate_new_master', {
		params: ['host'],
		minRole: 'pool-operator',
		async: true,
		run: async (_ctx, [hostArg]) => {
			const [hostRef, host] = ref(db, 'host', hostArg, 'host');
			if (pool.poolRecord.ha_enabled) throw new XapiError(XapiCode.HA_IS_ENABLED, []);
			if (!pool.runtime.hostIsUp(hostRef) || pool.snapshot.host_metrics[host.metrics]?.live !== true) {
				throw new XapiError(XapiCode.HOST_OFFLINE, [hostRef]);
			}
			if (pool.masterRef === hostRef) return '';
			// The database is synced to the new master before the roles swap.
			await pool.clock.sleep(3);
			pool.poolRecord.master = hostRef;
			db.touch('pool', pool.poolRef);
			pool.addMessage(HaMessage.POOL_MASTER_TRANSITION, 'Host', host.uuid, `The host '${host.name_label}' is now the pool master`);
			// The new master restarts from the synced database, without sessions or tasks; the
			// answer to this call still goes out before they vanish.
			setImmediate(() => pool.forgetVolatileState());
			return '';
		}
	});

	pool.define('host.emergency_ha_disable', {
		params: [],
		optional: ['soft'],
		minRole: 'pool-operator',
		run: (ctx, [soft]) => {
			const isSoft = soft === undefined ? false : bool(soft, 'soft');
			const record = pool.poolRecord;
			if (!record.ha_enabled) {
				if (isSoft) return '';
				throw new XapiError(XapiCode.HA_NOT_ENABLED, []);
			}
			// The host it is called on stops the HA daemon and will not fence; the pool's HA is off.
			const found = pool.hostByAddress(ctx.hostAddress);
			if (found) pool.runtime.emergencyDisable(found[0]);
			record.ha_enabled = false;
			db.touch('pool', pool.poolRef);
			for (const [r, h] of Object.entries(pool.snapshot.host)) {
				h.ha_statefiles = [];
				db.touch('host', r);
			}
			pool.runtime.haDisabled();
			return '';
		}
	});
}
