import { describe, expect, it } from 'vitest';
import { parseSnapshot } from '../../../src/lib/planner/parse';
import { tinyPool } from './helpers';

describe('parseSnapshot', () => {
	const pool = tinyPool([{ memGiB: 32 }, { memGiB: 32 }], [{ host: 0, memGiB: 4 }]);

	it('accepts a simulator snapshot unchanged', () => {
		const result = parseSnapshot(JSON.parse(JSON.stringify(pool.snapshot)));
		expect(result.ok).toBe(true);
		if (result.ok) expect(result.snapshot.VM[pool.vms[0] as string]?.memory_static_max).toBe(4 * 1024 ** 3);
	});

	it('normalises int64 fields sent as strings (XML-RPC dumps) and missing classes', () => {
		const raw = JSON.parse(JSON.stringify(pool.snapshot));
		const vm = raw.VM[pool.vms[0] as string];
		vm.memory_static_max = String(vm.memory_static_max);
		vm.order = '2';
		raw.host_metrics[raw.host[pool.hosts[0] as string].metrics].memory_total = '34359738368';
		delete raw.message;
		delete raw.task;
		const result = parseSnapshot(raw);
		expect(result.ok).toBe(true);
		if (!result.ok) return;
		expect(result.snapshot.VM[pool.vms[0] as string]?.memory_static_max).toBe(4 * 1024 ** 3);
		expect(result.snapshot.VM[pool.vms[0] as string]?.order).toBe(2);
		expect(result.snapshot.message).toEqual({});
	});

	it('names the path of a bad field', () => {
		const raw = JSON.parse(JSON.stringify(pool.snapshot));
		raw.VM[pool.vms[0] as string].memory_static_max = 'x';
		const result = parseSnapshot(raw);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		expect(result.issues).toContainEqual({ path: `VM.${pool.vms[0]}.memory_static_max`, message: 'expected integer, got "x"' });
	});

	it('reports a missing required field and a bad power state', () => {
		const raw = JSON.parse(JSON.stringify(pool.snapshot));
		delete raw.host[pool.hosts[1] as string].metrics;
		raw.VM[pool.vms[0] as string].power_state = 'Exploded';
		const result = parseSnapshot(raw);
		expect(result.ok).toBe(false);
		if (result.ok) return;
		const paths = result.issues.map((i) => i.path);
		expect(paths).toContain(`host.${pool.hosts[1]}.metrics`);
		expect(paths).toContain(`VM.${pool.vms[0]}.power_state`);
	});

	it('rejects non-objects at the root and at class level', () => {
		expect(parseSnapshot([1]).ok).toBe(false);
		const result = parseSnapshot({ VM: 3 });
		expect(result.ok).toBe(false);
		if (!result.ok) expect(result.issues[0]?.path).toBe('VM');
	});
});
