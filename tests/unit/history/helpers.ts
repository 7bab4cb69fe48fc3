import { afterEach } from 'vitest';
import type { Collector } from '../../../src/lib/server/history/collector';
import { XapiClient } from '../../../src/lib/xapi/client';
import type { Ref } from '../../../src/lib/xapi/records';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim';

/** Polls `check` until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 25_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let last: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value) return value;
		} catch (e) {
			last = e;
		}
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

export interface HaPool {
	sim: RunningSimulatedPool;
	admin: XapiClient;
	/** A fresh client logged in as the read-only helpdesk user, as the server hands the collector. */
	connect: () => Promise<XapiClient>;
	vm: (name: string) => Ref;
	host: (name: string) => Ref;
	control: (path: string, body?: unknown) => Promise<unknown>;
	stop: () => Promise<void>;
}

/**
 * The small demo pool, fast (600 simulated seconds per real second), with HA on over the
 * iSCSI SR and these protections on xcp-host-3's VMs: app-1 restart order 0 (start_delay 30 s),
 * app-2 restart order 1, ldap unprotected (so it stays down after a failure).
 */
export async function startHaPool(): Promise<HaPool> {
	const sim = await startSimulatedPool({ speed: 600, password: 'pw', authFailureDelayMs: 0 });
	const login = async (user: string) => {
		const client = new XapiClient({ address: sim.address, credentials: () => ({ user, password: sim.password }), probeTimeoutMs: 1000 });
		await client.login();
		return client;
	};
	// The collector needs no more than a read-only account (the helpdesk user).
	const connect = () => login('helpdesk');
	const admin = await login('admin');
	const byName = (cls: 'VM' | 'host' | 'SR', name: string): Ref => {
		const table = sim.pool.snapshot[cls] as Record<Ref, { name_label: string }>;
		const ref = Object.entries(table).find(([, r]) => r.name_label === name)?.[0];
		if (!ref) throw new Error(`no ${cls} named ${name}`);
		return ref;
	};
	await admin.call('pool.enable_ha', [byName('SR', 'iSCSI shared storage')], {});
	for (const [name, order, delay] of [
		['app-1', 0, 30],
		['app-2', 1, 0]
	] as const) {
		await admin.call('VM.set_ha_restart_priority', byName('VM', name), 'restart');
		await admin.call('VM.set_order', byName('VM', name), order);
		await admin.call('VM.set_start_delay', byName('VM', name), delay);
	}
	const control = async (path: string, body: unknown = {}) => {
		const res = await fetch(new URL(path, sim.controlUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
		if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${await res.text()}`);
		return res.json();
	};
	return {
		sim,
		admin,
		connect,
		vm: (name) => byName('VM', name),
		host: (name) => byName('host', name),
		control,
		stop: async () => {
			await admin.logout().catch(() => undefined);
			await sim.stop();
		}
	};
}

/**
 * What a test starts (an HA pool, collectors), stopped after it: the collectors first, so none
 * is left watching a pool that is gone.
 */
export function useCollectorRun(): { startPool(): Promise<HaPool>; track(collector: Collector): void; stopCollectors(): Promise<void> } {
	let pool: HaPool | undefined;
	const collectors: Collector[] = [];
	const stopCollectors = async () => {
		await Promise.all(collectors.splice(0).map((c) => c.stop()));
	};
	afterEach(async () => {
		await stopCollectors();
		await pool?.stop();
		pool = undefined;
	});
	return {
		startPool: async () => (pool = await startHaPool()),
		track: (collector) => void collectors.push(collector),
		stopCollectors
	};
}
