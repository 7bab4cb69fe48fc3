import { describe, expect, it } from 'vitest';
import { poolOverview } from '../../../src/lib/pool/overview';
import { smallScenario } from '../../../src/lib/xapi/sim/scenarios/small';
import { GiB, ScenarioBuilder } from '../../../src/lib/xapi/sim/scenario-builder';

describe('poolOverview', () => {
	it('shows the small pool: three hosts, the master first, running VMs on their hosts', () => {
		const o = poolOverview(smallScenario().snapshot);
		expect(o.name).toBe('Haven demo pool');
		expect(o.hosts.map((h) => h.name)).toEqual(['xcp-host-1', 'xcp-host-2', 'xcp-host-3']);
		expect(o.hosts[0]?.isMaster).toBe(true);
		expect(o.hosts.filter((h) => h.isMaster)).toHaveLength(1);
		expect(o.hosts[0]?.vms.map((v) => v.name)).toEqual(['db-primary', 'mail', 'web-1', 'backup-agent']);
		expect(o.offlineVms.map((v) => v.name)).toEqual(['old-reporting', 'test-vm']);
		// Control domains use memory but are not listed as VMs.
		expect(o.hosts.flatMap((h) => h.vms).some((v) => v.name.startsWith('Control domain'))).toBe(false);
	});

	it('lists which hosts see each SR', () => {
		const o = poolOverview(smallScenario().snapshot);
		const iscsi = o.srs.find((s) => s.name === 'iSCSI shared storage');
		expect(iscsi?.shared).toBe(true);
		expect(iscsi?.hosts).toHaveLength(3);
		const local = o.srs.find((s) => s.name === 'Local storage on xcp-host-2');
		expect(local?.hosts).toEqual([o.hosts[1]?.ref]);
	});

	it('counts a VM as static max plus overhead, and reads priorities with their order', () => {
		const b = new ScenarioBuilder(1);
		b.pool('p');
		const h = b.host({ name: 'h', memoryGiB: 32 });
		b.vm({ name: 'a', memoryGiB: 4, host: h, priority: 'restart', order: 1 });
		b.vm({ name: 'b', memoryGiB: 2, host: h, priority: '0' });
		b.vm({ name: 'c', memoryGiB: 1, host: h, priority: 'best-effort' });
		const o = poolOverview(b.finish());
		const vms = Object.fromEntries(o.hosts[0]?.vms.map((v) => [v.name, v]) ?? []);
		expect(vms['a']?.memory).toBeGreaterThan(4 * GiB);
		expect(vms['a']?.priority).toBe('medium');
		expect(vms['b']?.priority).toBe('high');
		expect(vms['b']?.protected).toBe(true);
		expect(vms['c']?.priority).toBe('best-effort');
		expect(vms['c']?.protected).toBe(false);
	});

	it('refuses records without a pool', () => {
		const s = smallScenario().snapshot;
		expect(() => poolOverview({ ...s, pool: {} })).toThrow(/pool record is missing/);
	});
});
