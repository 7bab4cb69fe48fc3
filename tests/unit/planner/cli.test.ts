import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tinyPool } from './helpers';

const dir = mkdtempSync(join(tmpdir(), 'haven-plan-'));
const file = (name: string, content: unknown) => {
	const path = join(dir, name);
	writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
	return path;
};
const plan = (...args: string[]) => {
	const r = spawnSync('npx', ['tsx', 'src/lib/planner/cli.ts', ...args], { encoding: 'utf8', cwd: process.cwd(), timeout: 60_000 });
	return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

// Three 20 GiB hosts each running a protected 10 GiB VM: nothing fits elsewhere.
const pool = tinyPool(
	[{ name: 'alpha', memGiB: 20 }, { name: 'beta', memGiB: 20 }, { name: 'gamma', memGiB: 20 }],
	[{ name: 'a', host: 0, memGiB: 10 }, { name: 'b', host: 1, memGiB: 10 }, { name: 'c', host: 2, memGiB: 10 }]
);
const snapshotPath = file('pool.json', pool.snapshot);

describe('plan CLI', () => {
	it('--json prints one JSON object with ntol, breakingSet, nonAgile and failover', () => {
		const r = plan(snapshotPath, '--fail', 'alpha', '--json');
		expect(r.code).toBe(0);
		const out = JSON.parse(r.stdout);
		expect(out.ntol).toBe(0);
		expect(out.breakingSet).toHaveLength(1);
		expect(pool.hosts).toContain(out.breakingSet[0]);
		expect(out.nonAgile).toEqual([]);
		expect(out.failover.failed).toEqual([pool.hosts[0]]);
		expect(out.failover.placements).toEqual({});
		expect(out.failover.unplaced).toEqual([{ vm: pool.vms[0], reason: 'HOST_NOT_ENOUGH_FREE_MEMORY' }]);
	});

	it('a priorities file (by name, legacy value, or object) changes the answer', () => {
		const priorities = file('prio.json', { a: '', b: 'best-effort', [pool.vms[2] as string]: { priority: '2' } });
		const r = plan(snapshotPath, '--priorities', priorities, '--json');
		expect(r.code).toBe(0);
		// Only c is protected; the others still hold memory, so c has nowhere to go: still 0.
		expect(JSON.parse(r.stdout)).toMatchObject({ ntol: 0, protectedVms: 1 });
		const none = file('none.json', { a: '', b: '', c: '' });
		expect(JSON.parse(plan(snapshotPath, '--priorities', none, '--json').stdout)).toMatchObject({ ntol: 3, breakingSet: null });
	});

	it('without --json prints readable tables', () => {
		const r = plan(snapshotPath, '--fail', pool.hosts[1] as string);
		expect(r.code).toBe(0);
		expect(r.stdout).toMatch(/Host failures tolerated \(exact\): 0/);
		expect(r.stdout).toMatch(/Memory per host/);
		expect(r.stdout).toMatch(/Failover plan for beta/);
	});

	it('exits 2 naming the bad field path of a malformed snapshot', () => {
		const raw = JSON.parse(JSON.stringify(pool.snapshot));
		raw.VM[pool.vms[0] as string].memory_static_max = 'x';
		const r = plan(file('bad.json', raw), '--json');
		expect(r.code).toBe(2);
		expect(r.stdout).toBe('');
		expect(r.stderr).toContain(`snapshot: VM.${pool.vms[0]}.memory_static_max: expected integer, got "x"`);
	});

	it('exits 2 for an unreadable file, an unknown --fail host and a bad priorities file', () => {
		expect(plan(join(dir, 'missing.json')).code).toBe(2);
		expect(plan(file('notjson.json', '{'), '--json').code).toBe(2);
		const unknownHost = plan(snapshotPath, '--fail', 'delta');
		expect(unknownHost.code).toBe(2);
		expect(unknownHost.stderr).toContain('delta');
		const badPriority = plan(snapshotPath, '--priorities', file('badprio.json', { a: 'sometimes' }));
		expect(badPriority.code).toBe(2);
		expect(badPriority.stderr).toContain('sometimes');
		expect(plan(snapshotPath, '--priorities', file('unknownvm.json', { nobody: 'restart' })).code).toBe(2);
	});
});
