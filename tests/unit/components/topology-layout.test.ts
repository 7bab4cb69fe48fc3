import { describe, expect, it } from 'vitest';
import { topologyLayout } from '../../../src/lib/components/topology/layout';
import { poolOverview } from '../../../src/lib/pool/overview';
import { smallScenario } from '../../../src/lib/xapi/sim/scenarios/small';

const overview = poolOverview(smallScenario().snapshot);

describe('topologyLayout', () => {
	it('is deterministic', () => {
		const layout = topologyLayout();
		expect(layout(overview)).toEqual(layout(overview));
	});

	it('draws one column per host and stacks VMs inside their host, to one memory scale', () => {
		const layout = topologyLayout({ columnWidth: 100, gap: 10, stackHeight: 200 })(overview);
		expect(layout.hosts).toHaveLength(3);
		expect(layout.hosts.map((h) => h.x)).toEqual([0, 110, 220]);
		for (const box of layout.hosts) {
			const used = box.vms.reduce((sum, vm) => sum + vm.height, 0) + box.reservedHeight;
			const usedMemory = box.host.memoryTotal - box.host.memoryFree;
			expect(used).toBeCloseTo((usedMemory / box.host.memoryTotal) * box.stack.height, 6);
			for (const vm of box.vms) {
				expect(vm.y).toBeGreaterThanOrEqual(box.stack.y - 1e-9);
				expect(vm.y + vm.height).toBeLessThanOrEqual(box.stack.y + box.stack.height + 1e-9);
			}
		}
	});

	it('links each SR to the hosts that have it attached', () => {
		const layout = topologyLayout()(overview);
		const iscsi = overview.srs.find((s) => s.name === 'iSCSI shared storage');
		expect(layout.links.filter((l) => l.sr === iscsi?.ref)).toHaveLength(3);
		const local = overview.srs.find((s) => s.name === 'Local storage on xcp-host-1');
		expect(layout.links.filter((l) => l.sr === local?.ref).map((l) => l.host)).toEqual([overview.hosts[0]?.ref]);
		for (const l of layout.links) expect(l.d).toMatch(/^M[\d.]+,[\d.]+C/);
	});
});
