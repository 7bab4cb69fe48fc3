import { describe, expect, it } from 'vitest';
import { buildModel, normalisePriority } from '../../../src/lib/planner/model';
import { GiB, MiB } from '../../../src/lib/xapi/sim/scenario-builder';
import { tinyPool } from './helpers';

describe('priority forms', () => {
	it.each([
		['restart', 5, 'restart', 5],
		['best-effort', 1, 'best-effort', 1],
		['', 0, '', 0],
		['0', 7, 'restart', 0],
		['1', 7, 'restart', 1],
		['2', 7, 'restart', 2],
		['3', 7, 'restart', 3],
		['always', 0, '', 0]
	] as const)('%j (order %i) reads as %j order %i', (raw, order, priority, expectedOrder) => {
		expect(normalisePriority(raw, order)).toEqual({ priority, order: expectedOrder });
	});

	const pool = tinyPool(
		[{ memGiB: 64 }, { memGiB: 64 }],
		[
			{ host: 0, memGiB: 4, priority: 'restart' },
			{ host: 0, memGiB: 4, priority: '2' },
			{ host: 1, memGiB: 4, priority: 'best-effort' },
			{ host: 1, memGiB: 4, priority: '' },
			{ host: null, memGiB: 4, priority: 'restart' },
			{ host: 1, memGiB: 4, priority: 'restart', power: 'Paused' },
			{ host: null, memGiB: 4, priority: 'restart', power: 'Suspended' }
		]
	);
	const model = buildModel(pool.snapshot);
	const vm = (i: number) => model.vmByRef.get(pool.vms[i] as string);

	it('restart and legacy "0".."3" protect a running VM; the legacy value sets the order', () => {
		expect(vm(0)?.protected).toBe(true);
		expect(vm(1)).toMatchObject({ protected: true, priority: 'restart', order: 2 });
		expect(vm(2)).toMatchObject({ protected: false, bestEffort: true });
		expect(vm(3)).toMatchObject({ protected: false, bestEffort: false });
	});

	it('only Running or Paused VMs count; control domains never do', () => {
		expect(vm(4)?.protected).toBe(false);
		expect(vm(5)?.protected).toBe(true);
		expect(vm(6)?.protected).toBe(false);
		expect(model.vms.filter((v) => v.isControlDomain).every((v) => !v.protected)).toBe(true);
	});

	it('a what-if overlays priorities (string or {priority, order}) or replaces them all', () => {
		const overlaid = buildModel(pool.snapshot, { priorities: { [pool.vms[3] as string]: { priority: 'restart', order: 4 }, [pool.vms[0] as string]: '' } });
		expect(overlaid.vmByRef.get(pool.vms[3] as string)).toMatchObject({ protected: true, order: 4 });
		expect(overlaid.vmByRef.get(pool.vms[0] as string)?.protected).toBe(false);
		expect(overlaid.vmByRef.get(pool.vms[1] as string)?.protected).toBe(true);
		const replaced = buildModel(pool.snapshot, { priorities: { [pool.vms[3] as string]: 'restart' }, prioritiesReplaceAll: true });
		expect(replaced.vms.filter((v) => v.protected).map((v) => v.ref)).toEqual([pool.vms[3]]);
	});
});

describe('host memory accounting', () => {
	it('free = total − host overhead − Σ(static max + overhead) of resident VMs, control domain included', () => {
		const pool = tinyPool([{ memGiB: 64 }], [{ host: 0, memGiB: 8, priority: '' }, { host: 0, memGiB: 16 }]);
		const host = buildModel(pool.snapshot).hosts[0];
		const vmOverhead = (gib: number, vcpus: number) => Math.ceil((gib * GiB) / 128 / MiB) * MiB + vcpus * MiB;
		const dom0 = 4 * GiB + vmOverhead(4, 8);
		const expected = 64 * GiB - Math.ceil((64 * GiB) / 100 / MiB) * MiB - dom0 - (8 * GiB + vmOverhead(8, 2)) - (16 * GiB + vmOverhead(16, 2));
		expect(host?.free).toBe(expected);
		expect(host?.controlDomainFootprint).toBe(dom0);
		expect(host?.protectedFootprint).toBe(16 * GiB + vmOverhead(16, 2));
	});

	it('a host is live only when enabled and its metrics say live; what-if failures and extra memory apply', () => {
		const pool = tinyPool([{ memGiB: 32 }, { memGiB: 32, enabled: false }, { memGiB: 32, live: false }], []);
		const m = buildModel(pool.snapshot, { failedHosts: [pool.hosts[0] as string] });
		expect(m.hosts.map((h) => [h.ref, h.live])).toEqual(expect.arrayContaining([[pool.hosts[0], false], [pool.hosts[1], false], [pool.hosts[2], false]]));
		const plus = buildModel(pool.snapshot, { extraMemory: { [pool.hosts[0] as string]: GiB } });
		expect((plus.hostByRef.get(pool.hosts[0] as string)?.free ?? 0) - (buildModel(pool.snapshot).hostByRef.get(pool.hosts[0] as string)?.free ?? 0)).toBe(GiB);
	});
});
