import { describe, expect, it } from 'vitest';
import { changeSteps, configurableVms, currentConfiguration, describeStep, prerequisites, settingDifferences, type CurrentConfiguration } from '../../../src/lib/ha/configuration';
import { mixedStorageScenario } from '../../../src/lib/xapi/sim/scenarios/mixed-storage';
import { smallScenario } from '../../../src/lib/xapi/sim/scenarios/small';
import { unlicensedScenario } from '../../../src/lib/xapi/sim/scenarios/unlicensed';

const current = (vms: CurrentConfiguration['vms'], ntol = 1): CurrentConfiguration => ({ haEnabled: true, ntol, heartbeatSr: null, vms });
const names = { a: 'a', b: 'b', c: 'c', d: 'd' };

describe('prerequisites', () => {
	it('are all met on the demo pool', () => {
		expect(prerequisites(smallScenario().snapshot).map((p) => [p.id, p.ok])).toEqual([
			['licence', true],
			['heartbeat-sr', true],
			['hosts-live', true]
		]);
	});

	it('say plainly that a pool without an HA licence would refuse with LICENCE_RESTRICTION', () => {
		const [licence] = prerequisites(unlicensedScenario().snapshot);
		expect(licence?.ok).toBe(false);
		expect(licence?.text).toContain('LICENCE_RESTRICTION');
		expect(licence?.text).toContain('free-host-1, free-host-2');
	});

	it('name the hosts that are not live, and say when no SR qualifies', () => {
		const snap = smallScenario().snapshot;
		const [hostRef, host] = Object.entries(snap.host)[1] ?? [];
		if (!hostRef || !host) throw new Error('no host');
		host.enabled = false;
		for (const sr of Object.values(snap.SR)) sr.shared = false;
		const checks = Object.fromEntries(prerequisites(snap).map((p) => [p.id, p]));
		expect(checks['hosts-live']).toMatchObject({ ok: false, text: expect.stringContaining('Not live: xcp-host-2') });
		expect(checks['heartbeat-sr']).toMatchObject({ ok: false, text: expect.stringContaining('No SR can hold the heartbeat') });
	});
});

describe('currentConfiguration', () => {
	it('reads priorities (legacy numbers as restart with that order), ntol and skips control domains', () => {
		const snap = mixedStorageScenario().snapshot;
		const rows = configurableVms(snap);
		expect(rows.some((r) => r.name.startsWith('Control domain'))).toBe(false);
		const erpDb = rows.find((r) => r.name === 'erp-db');
		expect(erpDb).toMatchObject({ priority: 'restart', order: 0 });
		const vm = Object.values(snap.VM).find((v) => v.name_label === 'file-server');
		if (vm) vm.ha_restart_priority = '2';
		const c = currentConfiguration(snap);
		const fileServer = rows.find((r) => r.name === 'file-server')?.vm ?? '';
		expect(c.vms[fileServer]).toMatchObject({ priority: 'restart', order: 2 });
		expect(c.haEnabled).toBe(false);
	});
});

describe('changeSteps: the safe order', () => {
	it('removes protection, then sets the tolerance, then adds protection, then orders and delays, then enables', () => {
		const now = current(
			{
				a: { priority: 'restart', order: 0, startDelay: 0 },
				b: { priority: '', order: 0, startDelay: 0 },
				c: { priority: 'best-effort', order: 0, startDelay: 0 },
				d: { priority: 'restart', order: 1, startDelay: 0 }
			},
			0
		);
		const steps = changeSteps(
			now,
			{
				ntol: 2,
				vms: {
					b: { priority: 'restart', order: 1, startDelay: 30 },
					c: { priority: '', order: 0, startDelay: 0 },
					a: { priority: 'best-effort', order: 0, startDelay: 0 },
					d: { priority: 'restart', order: 2, startDelay: 0 }
				}
			},
			names,
			{ sr: 'sr', srName: 'iSCSI', timeout: null }
		);
		expect(steps.map(describeStep)).toEqual([
			'a: restart priority restart → best effort',
			'c: restart priority best effort → do not restart',
			'Host failures to tolerate 0 → 2',
			'b: restart priority do not restart → restart',
			'b: start order 0 → 1',
			'b: start delay 0 s → 30 s',
			'd: start order 1 → 2',
			'Enable HA with the heartbeat on iSCSI'
		]);
	});

	it('changes nothing that is already so, and leaves order and delay of unprotected VMs alone', () => {
		const now = current({ a: { priority: 'restart', order: 0, startDelay: 5 }, b: { priority: '', order: 0, startDelay: 0 } });
		expect(changeSteps(now, { ntol: 1, vms: { a: { priority: 'restart', order: 0, startDelay: 5 }, b: { priority: '', order: 7, startDelay: 9 } } }, names)).toEqual([]);
	});

	it('ignores VMs the pool does not have (the server refuses them before)', () => {
		expect(changeSteps(current({}), { ntol: 1, vms: { zz: { priority: 'restart', order: 0, startDelay: 0 } } }, names)).toEqual([]);
	});
});

describe('settingDifferences', () => {
	it('counts order and delay only for protected VMs', () => {
		const a = { x: { priority: 'restart' as const, order: 0, startDelay: 0 }, y: { priority: '' as const, order: 0, startDelay: 0 } };
		const b = { x: { priority: 'restart' as const, order: 1, startDelay: 0 }, y: { priority: '' as const, order: 3, startDelay: 3 } };
		expect(settingDifferences(a, b)).toEqual(['x']);
	});
});
