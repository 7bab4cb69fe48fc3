/**
 * `npm run bench`: the planner against the plain exhaustive reference, in one run, as ratios.
 *
 * Pools: 8, 16, 32 and 64 hosts of 192–512 GiB, 30–60 VMs per host of varied sizes (0.25–32
 * GiB), about 70% protected, hosts filled to about 90% (see bench/planner-pools.ts). Both sides
 * get the same planning configuration and must return the same tolerance; the reference runs
 * once with a deadline (when it runs out, the ratio is a lower bound, printed with ">").
 * Then: exact ntol on 64 hosts × ~4,000 VMs (time, memory) and the recompute after one
 * priority edit on 16 hosts × 500 VMs through the worker API (warm caches) against a cold start.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { Bench } from 'tinybench';
import { analyse } from '../src/lib/planner/analyse';
import { computeRestartPlan } from '../src/lib/planner/config';
import { exactNtol } from '../src/lib/planner/exact';
import { buildModel } from '../src/lib/planner/model';
import { ReferenceTimeout, referenceNtol } from '../src/lib/planner/reference';
import { createPlannerApi } from '../src/lib/planner/worker-api';
import { randomPool } from './planner-pools';

// A collector to call between measurements, so heap figures are the planner's own.
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

const REFERENCE_DEADLINE_MS = Number(process.env['BENCH_REFERENCE_SECONDS'] ?? 60) * 1000;

function pad(cells: (string | number)[], widths: number[]): string {
	return cells.map((c, i) => String(c).padStart(widths[i] ?? 8)).join('  ');
}

async function meanMs(name: string, fn: () => void, time = 1000): Promise<number> {
	const bench = new Bench({ time, iterations: 3, warmupIterations: 1 });
	bench.add(name, fn);
	await bench.run();
	const result = bench.tasks[0]?.result as { latency?: { mean: number } } | undefined;
	return result?.latency?.mean ?? NaN;
}

async function versusReference(): Promise<void> {
	console.log('Exact ntol: planner vs plain exhaustive reference (same configuration, same answer)');
	const widths = [6, 6, 6, 9, 9, 11, 13, 9];
	console.log(pad(['hosts', 'VMs', 'ntol', 'toolstack', 'exact?', 'planner ms', 'reference ms', 'ratio'], widths));
	for (const hosts of [8, 16, 32, 64]) {
		const snapshot = randomPool({ hosts, fill: 0.9, protectedShare: 0.7, seed: hosts });
		const vms = Object.values(snapshot.VM).filter((vm) => !vm.is_control_domain).length;
		const config = computeRestartPlan(snapshot, buildModel(snapshot)).config;
		const result = exactNtol(config);
		const plannerMs = await meanMs(`planner ${hosts}`, () => void exactNtol(config));
		const toolstack = analyse(snapshot).toolstackNtol;
		let referenceCell: string;
		let ratioCell: string;
		const start = performance.now();
		try {
			const ref = referenceNtol(config, { deadline: start + REFERENCE_DEADLINE_MS });
			const referenceMs = performance.now() - start;
			if (result.exact && ref !== result.ntol) throw new Error(`planner ${result.ntol} ≠ reference ${ref} on ${hosts} hosts`);
			referenceCell = referenceMs.toFixed(1);
			ratioCell = `${(referenceMs / plannerMs).toFixed(0)}x`;
		} catch (e) {
			if (!(e instanceof ReferenceTimeout)) throw e;
			referenceCell = `>${REFERENCE_DEADLINE_MS.toFixed(0)}`;
			ratioCell = `>${(REFERENCE_DEADLINE_MS / plannerMs).toFixed(0)}x`;
		}
		const ntolCell = result.exact ? String(result.ntol) : `${result.ntol}..${result.ntolUpper}`;
		console.log(pad([hosts, vms, ntolCell, toolstack, result.exact ? 'exact' : 'bounds', plannerMs.toFixed(2), referenceCell, ratioCell], widths));
	}
}

async function bigPool(): Promise<void> {
	console.log('\nExact ntol on 64 hosts × ~4,000 VMs (cold: build model, restart plan, search)');
	const widths = [8, 6, 9, 9, 9, 11, 12];
	console.log(pad(['fill', 'VMs', 'ntol', 'exact?', 'ms', '+heap MB', 'rss MB'], widths));
	for (const [fill, protectedShare] of [
		[0.9, 0.7],
		[0.95, 0.8],
		[0.8, 0.5]
	] as const) {
		const snapshot = randomPool({ hosts: 64, vmsPerHost: [60, 65], fill, protectedShare, seed: 6400 });
		const vms = Object.values(snapshot.VM).filter((vm) => !vm.is_control_domain).length;
		collect();
		const heapBefore = process.memoryUsage().heapUsed;
		let heapPeak = heapBefore;
		const sampler = setInterval(() => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)), 5);
		const start = performance.now();
		const a = analyse(snapshot);
		const ms = performance.now() - start;
		clearInterval(sampler);
		// analyse runs synchronously, so the sampler cannot fire inside it: take the end state too.
		heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
		const heap = (heapPeak - heapBefore) / 2 ** 20;
		const ntolCell = a.exact ? String(a.ntol) : `${a.ntol}..${a.ntolUpper}`;
		console.log(pad([`${fill}/${protectedShare}`, vms, ntolCell, a.exact ? 'exact' : 'bounds', ms.toFixed(0), heap.toFixed(0), (process.memoryUsage().rss / 2 ** 20).toFixed(0)], widths));
	}
}

async function priorityEdit(): Promise<void> {
	console.log('\nRecompute after one priority edit, 16 hosts × 500 VMs (worker API, warm) vs cold start');
	const snapshot = randomPool({ hosts: 16, vmsPerHost: [31, 32], fill: 0.85, protectedShare: 0.6, seed: 1600 });
	const raw = JSON.parse(JSON.stringify(snapshot)) as unknown;
	const candidates = Object.entries(snapshot.VM).filter(([, vm]) => !vm.is_control_domain && vm.power_state === 'Running');
	const api = createPlannerApi();
	api.load(raw);
	await api.analyse({}, 0);
	const id = 1;
	// Each round edits a different VM, so the answer memo never helps: this is the real recompute.
	const t0 = performance.now();
	const rounds = 40;
	for (let k = 0; k < rounds; k++) {
		const [ref] = candidates[(id + k) % candidates.length] as [string, unknown];
		await api.analyse({ priorities: { [ref]: 'best-effort' } }, id + k);
	}
	const awaited = (performance.now() - t0) / rounds;
	const cold = await meanMs('cold', () => {
		const fresh = createPlannerApi();
		fresh.load(JSON.parse(JSON.stringify(snapshot)));
		analyse(snapshot, {});
	});
	console.log(`  one edit, awaited through the API: ${awaited.toFixed(1)} ms   cold start (parse, model, analyse): ${cold.toFixed(1)} ms   ratio ${(cold / awaited).toFixed(1)}x`);
}

await versusReference();
await bigPool();
await priorityEdit();
