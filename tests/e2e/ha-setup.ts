/**
 * Test-only pool setup straight over XAPI JSON-RPC to the simulated pool (not through Haven):
 * enable HA with priorities before a spec, and put everything back after it, so the specs that
 * share the one simulated pool find it as they expect.
 */
import { E2E_PASSWORD } from '../../playwright.config';

type Ref = string;
interface HostState {
	ref: Ref;
	name: string;
	address: string;
	condition: string;
	live: boolean;
	master: boolean;
}
interface ControlState {
	master: { ref: Ref; address: string };
	ha: { enabled: boolean };
	hosts: HostState[];
}
interface VmRecord {
	name_label: string;
	power_state: string;
	resident_on: Ref;
	is_a_template: boolean;
	is_control_domain: boolean;
	is_a_snapshot: boolean;
	ha_restart_priority: string;
	order: number | string;
}

const portOf = (address: string) => address.split(':')[1] ?? '80';

/** The control endpoint of any host that answers (the one named may be down). */
export async function control(address: string, path: string, method: 'GET' | 'POST' = 'POST', body: unknown = {}): Promise<ControlState> {
	const port = portOf(address);
	let last: unknown;
	for (const n of [1, 2, 3]) {
		try {
			const res = await fetch(`http://127.0.0.${n}:${port}/control/${path}`, {
				method,
				headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
				body: method === 'POST' ? JSON.stringify(body) : undefined
			});
			if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${await res.text()}`);
			return (await res.json()) as ControlState;
		} catch (e) {
			last = e;
			if (e instanceof Error && e.message.startsWith('control ')) throw e;
		}
	}
	throw last instanceof Error ? last : new Error(String(last));
}

export async function poolState(address: string): Promise<ControlState> {
	return control(address, 'state', 'GET');
}

/** A JSON-RPC client logged in as the simulated pool's admin, on whichever host is master now. */
export async function xapiAdmin(address: string): Promise<{ call: <T>(method: string, ...params: unknown[]) => Promise<T>; logout: () => Promise<void> }> {
	const state = await poolState(address);
	const url = `http://${state.master.address}:${portOf(address)}/jsonrpc`;
	let id = 0;
	const raw = async <T>(method: string, params: unknown[]): Promise<T> => {
		const res = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ jsonrpc: '2.0', method, params, id: ++id })
		});
		const body = (await res.json()) as { result?: T; error?: { message: string; data?: unknown[] } };
		if (body.error) throw new Error(`${method}: ${body.error.message} ${JSON.stringify(body.error.data ?? [])}`);
		return body.result as T;
	};
	const session = await raw<string>('session.login_with_password', ['admin', E2E_PASSWORD, '1.0', 'haven-e2e']);
	return {
		call: <T>(method: string, ...params: unknown[]) => raw<T>(method, [session, ...params]),
		logout: () => raw<void>('session.logout', [session])
	};
}

export type Placement = Map<Ref, { name: string; power: string; host: Ref; priority: string; order: number }>;

/** Where every VM runs and its priority: what the pool must be put back to. */
export async function recordPlacement(address: string): Promise<Placement> {
	const x = await xapiAdmin(address);
	try {
		const vms = await x.call<Record<Ref, VmRecord>>('VM.get_all_records');
		const placement: Placement = new Map();
		for (const [ref, vm] of Object.entries(vms)) {
			if (vm.is_a_template || vm.is_control_domain || vm.is_a_snapshot) continue;
			placement.set(ref, { name: vm.name_label, power: vm.power_state, host: vm.resident_on, priority: vm.ha_restart_priority, order: Number(vm.order) });
		}
		return placement;
	} finally {
		await x.logout().catch(() => undefined);
	}
}

/** Sets restart priorities (by VM name) and turns HA on with the shared iSCSI SR as heartbeat SR. */
export async function enableHa(address: string, priorities: Record<string, { priority: string; order?: number }>, opts: { async?: boolean } = {}): Promise<string | undefined> {
	const x = await xapiAdmin(address);
	try {
		const vms = await x.call<Record<Ref, VmRecord>>('VM.get_all_records');
		for (const [name, p] of Object.entries(priorities)) {
			const ref = Object.entries(vms).find(([, vm]) => vm.name_label === name)?.[0];
			if (!ref) throw new Error(`no VM named ${name}`);
			await x.call('VM.set_ha_restart_priority', ref, p.priority);
			await x.call('VM.set_order', ref, p.order ?? 0);
		}
		const srs = await x.call<Record<Ref, { name_label: string }>>('SR.get_all_records');
		const sr = Object.entries(srs).find(([, s]) => s.name_label === 'iSCSI shared storage')?.[0];
		if (!sr) throw new Error('no iSCSI shared storage SR');
		if (opts.async) return await x.call<string>('Async.pool.enable_ha', [sr], {});
		await x.call('pool.enable_ha', [sr], {});
		return undefined;
	} finally {
		await x.logout().catch(() => undefined);
	}
}

/**
 * Puts the pool back: every host recovered, HA off, priorities and orders as recorded, and every
 * VM running (or not) on the host it was on.
 */
export async function restorePool(address: string, placement: Placement): Promise<void> {
	let state = await poolState(address);
	for (const host of state.hosts) if (host.condition !== 'up') await control(address, `hosts/${host.ref}/recover`);
	await control(address, 'settle');
	// A recovered host is declared live again within the HA timeout (1 s at the e2e speed).
	for (let i = 0; i < 50; i++) {
		state = await poolState(address);
		if (state.hosts.every((h) => h.live)) break;
		await new Promise((r) => setTimeout(r, 200));
	}
	const x = await xapiAdmin(address);
	try {
		if (state.ha.enabled) await x.call('pool.disable_ha');
		const vms = await x.call<Record<Ref, VmRecord>>('VM.get_all_records');
		for (const [ref, want] of placement) {
			const vm = vms[ref];
			if (!vm) continue;
			if (vm.ha_restart_priority !== want.priority) await x.call('VM.set_ha_restart_priority', ref, want.priority);
			if (Number(vm.order) !== want.order) await x.call('VM.set_order', ref, want.order);
			const moved = vm.power_state !== want.power || (want.power === 'Running' && vm.resident_on !== want.host);
			if (!moved) continue;
			if (vm.power_state === 'Running') await x.call('VM.clean_shutdown', ref);
			if (want.power === 'Running') await x.call('VM.start_on', ref, want.host, false, false);
		}
	} finally {
		await x.logout().catch(() => undefined);
	}
}
