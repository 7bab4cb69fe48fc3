import { expect } from 'vitest';
import type { PowerState, Ref, Snapshot } from '../../../src/lib/xapi/records';
import { ScenarioBuilder } from '../../../src/lib/xapi/sim/scenario-builder';
import { failHost, initialState, type PlanConfig } from '../../../src/lib/planner/config';

export interface TinyHost {
	name?: string;
	memGiB: number;
	live?: boolean;
	enabled?: boolean;
}

export interface TinyVm {
	name?: string;
	/** Index into the hosts list, or null for a halted VM. */
	host: number | null;
	memGiB: number;
	priority?: string;
	order?: number;
	startDelay?: number;
	power?: PowerState;
}

export interface TinyPool {
	snapshot: Snapshot;
	hosts: Ref[];
	vms: Ref[];
	builder: ScenarioBuilder;
}

/**
 * A pool built with the simulator's ScenarioBuilder: every host on one network and one shared
 * SR, so every VM is agile. Each host also gets a 4 GiB control domain and 1% overhead, and each
 * VM ~1.6% memory overhead (xapi's formula): hand-worked figures below keep clear margins.
 */
export function tinyPool(hosts: TinyHost[], vms: TinyVm[], seed = 7): TinyPool {
	const b = new ScenarioBuilder(seed);
	b.pool('tiny');
	const hostRefs = hosts.map((h, i) => b.host({ name: h.name ?? `host-${i}`, memoryGiB: h.memGiB, ...(h.live === undefined ? {} : { live: h.live }), ...(h.enabled === undefined ? {} : { enabled: h.enabled }) }));
	const lan = b.network('lan', hostRefs);
	const sr = b.sr({ name: 'shared', type: 'nfs', shared: true, sizeGiB: 10_000, hosts: hostRefs.map((host) => ({ host })) });
	const vmRefs = vms.map((vm, i) =>
		b.vm({
			name: vm.name ?? `vm-${i}`,
			memoryGiB: vm.memGiB,
			host: vm.host === null ? null : (hostRefs[vm.host] as Ref),
			...(vm.power ? { power: vm.power } : {}),
			priority: vm.priority ?? 'restart',
			order: vm.order ?? 0,
			startDelay: vm.startDelay ?? 0,
			disks: [{ sr, sizeGiB: 10 }],
			networks: [lan]
		})
	);
	return { snapshot: b.finish(), hosts: hostRefs, vms: vmRefs, builder: b };
}

/** Replays a failure sequence: every step but the last must succeed, the last must strand VMs. */
export function expectBreakingSequence(config: PlanConfig, hosts: number[]): void {
	let state = initialState(config);
	hosts.forEach((h, i) => {
		const step = failHost(config, state, h);
		if (i < hosts.length - 1) {
			expect(step.ok, `step ${i} of ${hosts.join(',')} should succeed`).toBe(true);
			if (step.ok) state = step.state;
		} else expect(step.ok, `last step of ${hosts.join(',')} should strand VMs`).toBe(false);
	});
}

/** A PlanConfig straight from numbers (GiB-free arithmetic, no snapshot): for property tests. */
export function rawConfig(free: number[], vms: { host: number; need: number }[], totalHosts = free.length): PlanConfig {
	const order = vms.map((_, i) => i).sort((a, b) => (vms[b]?.need ?? 0) - (vms[a]?.need ?? 0) || a - b);
	return {
		hostRefs: free.map((_, i) => `OpaqueRef:h${i}`),
		free: Float64Array.from(free),
		vmRefs: order.map((i) => `OpaqueRef:v${i}`),
		need: Float64Array.from(order, (i) => vms[i]?.need ?? 0),
		hostOf: Int32Array.from(order, (i) => vms[i]?.host ?? -1),
		totalHosts
	};
}
