import { describe, expect, it } from 'vitest';
import { analyse } from '../../../src/lib/planner/analyse';
import { bisect, chooseStrategy, planExistsFor, planStatus, toolstackFailoverPlan, toolstackMaxFailuresToTolerate } from '../../../src/lib/planner/toolstack';
import { XapiCode } from '../../../src/lib/xapi/codes';
import { tinyPool } from './helpers';

/*
 * Hand-worked pools, in the spirit of xapi's ocaml/tests/test_ha_vm_failover.ml.
 * A host of N GiB has about N − 1% − 4.04 GiB free before its guests (overhead, control
 * domain); a VM of M GiB needs about M·1.008 GiB. Figures in the comments are rounded.
 */
describe('toolstackMaxFailuresToTolerate (hand-worked pools)', () => {
	it('no protected VMs: the number of live hosts', () => {
		const pool = tinyPool([{ memGiB: 32 }, { memGiB: 32 }, { memGiB: 32, enabled: false }], [{ host: 0, memGiB: 4, priority: '' }]);
		expect(toolstackMaxFailuresToTolerate(pool.snapshot)).toBe(2);
		expect(analyse(pool.snapshot)).toMatchObject({ ntol: 2, breakingSet: null, status: { kind: 'no-protected-vms' } });
	});

	it('two hosts with room for each other: 1 (a single survivor cannot lose another)', () => {
		// free 15.8 − 6.05 = 9.7 on each; either 6.05 GiB VM fits on the other host.
		const pool = tinyPool([{ memGiB: 20 }, { memGiB: 20 }], [{ host: 0, memGiB: 6 }, { host: 1, memGiB: 6 }]);
		expect(toolstackMaxFailuresToTolerate(pool.snapshot)).toBe(1);
		expect(analyse(pool.snapshot)).toMatchObject({ ntol: 1, toolstackNtol: 1, breakingSet: null });
	});

	it('three full hosts: 0, and the breaking set is one host with its VM', () => {
		// free 15.8 − 10.1 = 5.7 each: no 10 GiB VM fits anywhere else.
		const pool = tinyPool([{ memGiB: 20 }, { memGiB: 20 }, { memGiB: 20 }], [{ host: 0, memGiB: 10 }, { host: 1, memGiB: 10 }, { host: 2, memGiB: 10 }]);
		expect(toolstackMaxFailuresToTolerate(pool.snapshot)).toBe(0);
		const a = analyse(pool.snapshot);
		expect(a.ntol).toBe(0);
		expect(a.breakingSet?.hosts).toHaveLength(1);
		const i = pool.hosts.indexOf(a.breakingSet?.hosts[0] as string);
		expect(a.breakingSet?.vms).toEqual([pool.vms[i]]);
	});

	it('sequences count: A then B fails even though A alone and B alone are fine', () => {
		// Three 20 GiB hosts (15.8 free), 6 GiB VMs: two on h0, one on h1, none on h2.
		// h0 (2×6.05) fails: one VM to h2 (15.8→9.7), one to h1 (9.7 − 6.05 = 3.7)... then
		// losing h2 leaves its VM with only 3.7 / 9.7 GiB: still fits on h1? 9.7 ≥ 6.05 only on
		// a host that has not received one. The exact answer is checked by the reference below.
		const pool = tinyPool([{ memGiB: 20 }, { memGiB: 20 }, { memGiB: 20 }], [{ host: 0, memGiB: 6 }, { host: 0, memGiB: 6 }, { host: 1, memGiB: 6 }]);
		const a = analyse(pool.snapshot);
		expect(a.ntol).toBe(a.toolstackNtol);
		expect(a.ntol).toBe(1);
		expect(a.breakingSet?.hosts).toHaveLength(2);
	});

	it('a protected VM on a dead host is restarted first; if it cannot be, tolerance is 0', () => {
		const fits = tinyPool([{ memGiB: 32 }, { memGiB: 32, live: false }, { memGiB: 32 }], [{ host: 1, memGiB: 8 }]);
		expect(toolstackMaxFailuresToTolerate(fits.snapshot)).toBe(1);
		const tooBig = tinyPool([{ memGiB: 32 }, { memGiB: 64, live: false }], [{ host: 1, memGiB: 40 }]);
		expect(toolstackMaxFailuresToTolerate(tooBig.snapshot)).toBe(0);
		expect(analyse(tooBig.snapshot).status).toEqual({ kind: 'cannot-start', vms: [tooBig.vms[0]] });
		expect(planStatus(tooBig.snapshot, 0)).toBe('none');
	});

	it('a protected non-agile VM makes the tolerance 0 (plan excludes non-agile VMs)', () => {
		const pool = tinyPool([{ memGiB: 64 }, { memGiB: 64 }], [{ host: 0, memGiB: 4 }]);
		const local = pool.builder.sr({ name: 'local', type: 'lvm', shared: false, sizeGiB: 100, hosts: [{ host: pool.hosts[0] as string }] });
		pool.builder.vm({ name: 'pinned', memoryGiB: 2, host: pool.hosts[0] as string, priority: 'restart', disks: [{ sr: local, sizeGiB: 5 }] });
		const s = pool.builder.finish();
		expect(toolstackMaxFailuresToTolerate(s)).toBe(0);
		expect(planStatus(s, 1)).toBe('excluding-non-agile');
		expect(planExistsFor(s, 1)).toBe(false);
		expect(analyse(s).status.kind).toBe('non-agile-protected');
	});

	it('hypothetical priorities replace the configuration (VMs not named are unprotected)', () => {
		const pool = tinyPool([{ memGiB: 20 }, { memGiB: 20 }, { memGiB: 20 }], [{ host: 0, memGiB: 10 }, { host: 1, memGiB: 10 }, { host: 2, memGiB: 10 }]);
		const none = Object.fromEntries(pool.vms.map((vm) => [vm, '']));
		expect(toolstackMaxFailuresToTolerate(pool.snapshot, { priorities: none })).toBe(3);
		expect(toolstackMaxFailuresToTolerate(pool.snapshot, { priorities: {}, prioritiesReplaceAll: true })).toBe(3);
		// Only vm0 protected: the others still hold their memory, so it has nowhere to go.
		expect(toolstackMaxFailuresToTolerate(pool.snapshot, { priorities: { [pool.vms[0] as string]: 'restart' }, prioritiesReplaceAll: true })).toBe(0);
	});

	it('over 32 hosts the pool approximates and reports less than the exact answer', () => {
		// 34 hosts of 32 GiB (27.6 free); a 1 GiB protected VM on 33 of them, a 16 GiB one on the last.
		// Approximation: one 16 GiB slot per host (none on the last), r VMs to move: r ≤ 33 − r → 16.
		// Exact: the 16 GiB VM is stranded only once every survivor has < 16.1 GiB free, which
		// with 49 GiB of protected load needs at most 2 survivors: 31.
		const hosts = Array.from({ length: 34 }, () => ({ memGiB: 32 }));
		const vms = hosts.map((_, i) => ({ host: i, memGiB: i === 33 ? 16 : 1 }));
		const pool = tinyPool(hosts, vms);
		expect(toolstackMaxFailuresToTolerate(pool.snapshot)).toBe(16);
		const a = analyse(pool.snapshot);
		expect(a).toMatchObject({ ntol: 31, toolstackNtol: 16, toolstackStrategy: 'approximation', exact: true });
	});
});

describe('strategy choice and bisection', () => {
	it('exhaustive only while n ≤ 32 and nPr < 3500', () => {
		expect(chooseStrategy(3, 3)).toBe('exhaustive');
		expect(chooseStrategy(16, 2)).toBe('exhaustive'); // 240
		expect(chooseStrategy(16, 3)).toBe('exhaustive'); // 3360
		expect(chooseStrategy(16, 4)).toBe('approximation'); // 43680
		expect(chooseStrategy(60, 1)).toBe('approximation');
		expect(chooseStrategy(32, 2)).toBe('exhaustive'); // 992
		expect(chooseStrategy(33, 1)).toBe('approximation');
	});

	it("bisect is helpers.ml's: it never tests the lower end", () => {
		expect(bisect((n) => n <= 3, 0, 10)).toBe(3);
		expect(bisect(() => false, 0, 10)).toBe(0);
		expect(bisect(() => true, 0, 10)).toBe(10);
		// Non-monotone predicate: the answer depends on the probes, as on the real pool.
		const probed: number[] = [];
		bisect((n) => (probed.push(n), n !== 5), 0, 10);
		expect(probed[0]).toBe(5);
	});
});

describe('toolstackFailoverPlan', () => {
	it('places failed VMs biggest first; the rest get HOST_NOT_ENOUGH_FREE_MEMORY or their agility code', () => {
		const pool = tinyPool([{ memGiB: 20 }, { memGiB: 20 }], [{ host: 0, memGiB: 10 }, { host: 0, memGiB: 4 }, { host: 1, memGiB: 3 }]);
		const plan = toolstackFailoverPlan(pool.snapshot, [pool.hosts[0] as string], [pool.vms[0] as string, pool.vms[1] as string]);
		// h1 has 15.8 − 3.0 = 12.7 free: the 10 GiB VM fits (2.6 left), the 4 GiB one does not.
		expect(plan[pool.vms[0] as string]).toEqual({ host: pool.hosts[1] });
		expect(plan[pool.vms[1] as string]).toEqual({ error_code: XapiCode.HOST_NOT_ENOUGH_FREE_MEMORY });
	});
});
