import { NULL_REF, type Snapshot } from '../src/lib/xapi/records';
import { GiB, ScenarioBuilder } from '../src/lib/xapi/sim/scenario-builder';

/**
 * Random pools for the planner benchmark: `hosts` hosts of mixed sizes, 30–60 running VMs per
 * host of varied sizes (0.5–32 GiB, mostly small), about `protectedShare` of them protected,
 * hosts filled to roughly `fill` of their memory. Seeded: the same arguments give the same pool.
 */
export function randomPool(opts: { hosts: number; vmsPerHost?: [number, number]; fill?: number; protectedShare?: number; seed?: number }): Snapshot {
	const b = new ScenarioBuilder(opts.seed ?? 1);
	const rnd = () => b.random();
	b.pool(`bench-${opts.hosts}`);
	const sizesGiB = [0.5, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 16, 32];
	const hostMemory = [192, 256, 384, 512];
	const [minVms, maxVms] = opts.vmsPerHost ?? [30, 60];
	const hosts = Array.from({ length: opts.hosts }, (_, i) => b.host({ name: `h${i}`, memoryGiB: hostMemory[Math.floor(rnd() * hostMemory.length)] as number, address: `10.0.${i >> 8}.${i & 255}` }));
	const lan = b.network('lan', hosts);
	const sr = b.sr({ name: 'shared', type: 'nfs', shared: true, sizeGiB: 100000, hosts: hosts.map((host) => ({ host })) });
	for (const host of hosts) {
		const capacity = (b.snapshot.host_metrics[b.snapshot.host[host]?.metrics ?? NULL_REF]?.memory_total ?? 0) / GiB;
		const count = minVms + Math.floor(rnd() * (maxVms - minVms + 1));
		const budget = capacity * (opts.fill ?? 0.7) - 4;
		// Scale sizes so the VMs of this host use about the budget.
		const picks = Array.from({ length: count }, () => sizesGiB[Math.floor(rnd() * sizesGiB.length)] as number);
		const sum = picks.reduce((a, c) => a + c, 0);
		const scale = Math.min(1, budget / sum);
		for (const [i, size] of picks.entries()) {
			const r = rnd();
			const priority = r < (opts.protectedShare ?? 0.5) ? 'restart' : r < (opts.protectedShare ?? 0.5) + 0.2 ? 'best-effort' : '';
			b.vm({ name: `vm-${host.slice(-6)}-${i}`, memoryGiB: Math.max(0.25, Math.round(size * scale * 4) / 4), host, priority, order: Math.floor(rnd() * 3), disks: [{ sr, sizeGiB: 10 }], networks: [lan] });
		}
	}
	return b.finish();
}
