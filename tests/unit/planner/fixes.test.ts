import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/lib/planner/analyse';
import { suggestFixes } from '../../../src/lib/planner/fixes';
import type { WhatIf } from '../../../src/lib/planner/types';
import { tinyPool } from './helpers';

describe('suggestFixes', () => {
	// Three 20 GiB hosts (15.8 free each before guests), a protected 10 GiB VM on each: ntol 0.
	const pool = tinyPool([{ memGiB: 20 }, { memGiB: 20 }, { memGiB: 20 }], [{ host: 0, memGiB: 10 }, { host: 1, memGiB: 10 }, { host: 2, memGiB: 10 }]);

	it('returns nothing when the target already holds', () => {
		expect(suggestFixes(pool.snapshot, 0).fixes).toEqual([]);
	});

	it('every suggested fix, applied as a what-if, reaches the target', () => {
		const result = suggestFixes(pool.snapshot, 1);
		expect(result.current).toBe(0);
		expect(result.fixes.length).toBeGreaterThan(1);
		for (const fix of result.fixes) {
			const whatIf: WhatIf =
				fix.kind === 'priorities'
					? { priorities: Object.fromEntries(fix.changes.map((c) => [c.vm, c.to])) }
					: { extraMemory: Object.fromEntries(fix.hosts.map((h) => [h.host, h.bytes])) };
			expect(analyse(pool.snapshot, whatIf).ntol).toBeGreaterThanOrEqual(1);
		}
	});

	it('the priority fix demotes as few VMs as needed, and memory fixes are ranked by bytes', () => {
		const result = suggestFixes(pool.snapshot, 1);
		const priorities = result.fixes.find((f) => f.kind === 'priorities');
		// A demoted VM keeps running and keeps its memory: with any protected 10 GiB VM left there
		// is still no host with 10 GiB spare (5.7 each), so only demoting all three works.
		expect(priorities?.kind === 'priorities' && priorities.changes.length).toBe(3);
		const memory = result.fixes.filter((f) => f.kind === 'memory');
		const totals = memory.map((f) => (f.kind === 'memory' ? f.totalBytes : 0));
		expect(totals).toEqual([...totals].sort((a, b) => a - b));
	});
});

describe('suggestFixes with a single sufficient change', () => {
	// h0 (24 GiB, 19.7 free before guests) runs protected 12 and 2 GiB VMs (5.6 left); h1 (20 GiB)
	// a protected 2 GiB VM (13.7 left). Losing h0: 12 → h1 (1.6 left), then 2 has nowhere: 0.
	// Unprotecting either VM on h0 makes both single failures survivable: 1 change, minimal.
	const pool = tinyPool([{ memGiB: 24 }, { memGiB: 20 }], [{ host: 0, memGiB: 12 }, { host: 0, memGiB: 2 }, { host: 1, memGiB: 2 }]);

	it('finds one change, says it is minimal, and it works', () => {
		const result = suggestFixes(pool.snapshot, 1);
		expect(result.current).toBe(0);
		const fix = result.fixes[0];
		expect(fix?.kind).toBe('priorities');
		if (fix?.kind !== 'priorities') return;
		expect(fix.changes).toHaveLength(1);
		expect(fix.minimal).toBe(true);
		expect([pool.vms[0], pool.vms[1]]).toContain(fix.changes[0]?.vm);
		expect(analyse(pool.snapshot, { priorities: { [fix.changes[0]?.vm as string]: 'best-effort' } }).ntol).toBe(1);
	});
});

describe('suggestFixes when two changes are the fewest', () => {
	// h0 (24 GiB, 19.7 free before guests) runs three protected 6 GiB VMs (about 1.4 left); h1
	// (20 GiB) a protected 2 GiB VM (about 13.7 left). Losing h0: two 6s fit on h1, the third
	// does not; losing h1: the 2 GiB VM does not fit on h0. Demoting one 6 fixes the first but
	// not the second (a demoted VM keeps its memory), demoting the 2 the second but not the
	// first: only both together reach a tolerance of 1.
	const pool = tinyPool([{ memGiB: 24 }, { memGiB: 20 }], [{ host: 0, memGiB: 6 }, { host: 0, memGiB: 6 }, { host: 0, memGiB: 6 }, { host: 1, memGiB: 2 }]);

	it('finds two changes, proves no single one is enough, and they work', () => {
		const result = suggestFixes(pool.snapshot, 1);
		expect(result.current).toBe(0);
		for (const vm of pool.vms) expect(analyse(pool.snapshot, { priorities: { [vm]: 'best-effort' } }).ntol).toBe(0);
		const fix = result.fixes.find((f) => f.kind === 'priorities');
		if (fix?.kind !== 'priorities') throw new Error('no priority fix');
		expect(fix.changes).toHaveLength(2);
		expect(fix.minimal).toBe(true);
		expect(fix.changes.map((c) => c.vm)).toContain(pool.vms[3]);
		expect(analyse(pool.snapshot, { priorities: Object.fromEntries(fix.changes.map((c) => [c.vm, c.to])) }).ntol).toBe(1);
	});
});

describe('suggestFixes with memory on a group of hosts', () => {
	// Five 64 GiB hosts: h0 and h1 run one protected 12 GiB VM each (lots of room), h2–h4 four
	// each (about 10 GiB left). The roomiest hosts take the VMs of failed ones first, so memory
	// added to them is used first; one host alone is not enough for two failures.
	const pool = tinyPool(
		[{ memGiB: 64 }, { memGiB: 64 }, { memGiB: 64 }, { memGiB: 64 }, { memGiB: 64 }],
		[0, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4].map((host) => ({ host, memGiB: 12 }))
	);

	it('finds a group fix cheaper than memory everywhere, and it works', () => {
		const result = suggestFixes(pool.snapshot, analyse(pool.snapshot).ntol + 1);
		const memory = result.fixes.filter((f) => f.kind === 'memory');
		const everywhere = memory.find((f) => f.kind === 'memory' && f.hosts.length === pool.hosts.length);
		const group = memory.find((f) => f.kind === 'memory' && f.hosts.length > 1 && f.hosts.length < pool.hosts.length);
		if (group?.kind !== 'memory' || everywhere?.kind !== 'memory') throw new Error('expected a group fix and an everywhere fix');
		expect(group.totalBytes).toBeLessThan(everywhere.totalBytes);
		expect(memory[0]).toBe(group);
		const extraMemory = Object.fromEntries(group.hosts.map((h) => [h.host, h.bytes]));
		expect(analyse(pool.snapshot, { extraMemory }).ntol).toBeGreaterThanOrEqual(result.target);
		expect(group.ntol).toBe(analyse(pool.snapshot, { extraMemory }).ntol);
	});
});
