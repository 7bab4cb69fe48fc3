import { describe, expect, it } from 'vitest';
import { allVmAgility, vmAgility } from '../../../src/lib/planner/agility';
import { XapiCode } from '../../../src/lib/xapi/codes';
import { NULL_REF, type Ref } from '../../../src/lib/xapi/records';
import { ScenarioBuilder } from '../../../src/lib/xapi/sim/scenario-builder';

/** Two hosts, a pool-wide network, a shared SR, plus the odd one out for each cause. */
function pool() {
	const b = new ScenarioBuilder(11);
	b.pool('agility');
	const h1 = b.host({ name: 'h1', memoryGiB: 64 });
	const h2 = b.host({ name: 'h2', memoryGiB: 64 });
	const lan = b.network('lan', [h1, h2]);
	const onlyH1 = b.network('h1 only', [h1]);
	const internal = b.network('internal', []);
	const shared = b.sr({ name: 'shared', type: 'lvmoiscsi', shared: true, sizeGiB: 500, hosts: [{ host: h1 }, { host: h2 }] });
	const local = b.sr({ name: 'local', type: 'lvm', shared: false, sizeGiB: 500, hosts: [{ host: h1 }] });
	const halfPlugged = b.sr({ name: 'half plugged', type: 'nfs', shared: true, sizeGiB: 500, hosts: [{ host: h1 }, { host: h2, attached: false }] });
	const iso = b.sr({ name: 'iso', type: 'iso', shared: true, sizeGiB: 50, hosts: [{ host: h1 }, { host: h2 }] });
	const isoVdi = b.vdi(iso, 'installer.iso', 1);
	const base = { memoryGiB: 2, host: h1, disks: [{ sr: shared, sizeGiB: 10 }], networks: [lan] };
	const vm = (extra: Partial<Parameters<ScenarioBuilder['vm']>[0]>) => b.vm({ name: 'vm', ...base, ...extra });
	return {
		b,
		srs: { local, halfPlugged },
		nets: { onlyH1, internal },
		vms: {
			agile: vm({}),
			emptyCd: vm({ cd: null }),
			isoCd: vm({ cd: isoVdi }),
			vgpu: vm({ vgpu: true }),
			vusb: vm({ vusb: true }),
			pci: vm({ pci: true }),
			sriov: vm({ sriov: true }),
			localDisk: vm({ disks: [{ sr: local, sizeGiB: 10 }] }),
			unplugged: vm({ disks: [{ sr: halfPlugged, sizeGiB: 10 }] }),
			partialNet: vm({ networks: [lan, onlyH1] }),
			internalNet: vm({ networks: [internal] }),
			vgpuAndLocal: vm({ vgpu: true, disks: [{ sr: local, sizeGiB: 10 }] })
		}
	};
}

describe('vmAgility', () => {
	const { b, srs, nets, vms } = pool();
	const s = b.finish();
	const notAgile = (ref: Ref, code: string, params: string[]) => expect(vmAgility(s, ref)).toEqual({ agile: false, code, params });

	it('an all-shared VM is agile; an empty CD and an ISO on a shared SR do not matter', () => {
		expect(vmAgility(s, vms.agile)).toEqual({ agile: true });
		expect(vmAgility(s, vms.emptyCd)).toEqual({ agile: true });
		expect(vmAgility(s, vms.isoCd)).toEqual({ agile: true });
	});
	it('vGPU → VM_HAS_VGPU', () => notAgile(vms.vgpu, XapiCode.VM_HAS_VGPU, [vms.vgpu]));
	it('USB → VM_HAS_VUSBS', () => notAgile(vms.vusb, XapiCode.VM_HAS_VUSBS, [vms.vusb]));
	it('PCI pass-through → VM_HAS_PCI_ATTACHED', () => notAgile(vms.pci, XapiCode.VM_HAS_PCI_ATTACHED, [vms.pci]));
	it('SR-IOV VIF → VM_HAS_SRIOV_VIF', () => notAgile(vms.sriov, XapiCode.VM_HAS_SRIOV_VIF, [vms.sriov]));
	it('local disk → HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED naming the SR', () => notAgile(vms.localDisk, XapiCode.HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED, [srs.local]));
	it('shared SR unplugged on an enabled host → SR_NOT_SHARED', () => notAgile(vms.unplugged, XapiCode.HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED, [srs.halfPlugged]));
	it('network missing on a host → NETWORK_NOT_SHARED naming the network', () => notAgile(vms.partialNet, XapiCode.HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED, [nets.onlyH1]));
	it('host-internal network (no PIFs) → NETWORK_NOT_SHARED', () => notAgile(vms.internalNet, XapiCode.HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED, [nets.internal]));
	it("the first cause in xapi's order wins (vGPU before storage)", () => notAgile(vms.vgpuAndLocal, XapiCode.VM_HAS_VGPU, [vms.vgpuAndLocal]));

	it('a disabled host does not count for sharing', () => {
		const { b: b2, vms: vms2 } = pool();
		const h2 = Object.entries(b2.snapshot.host).find(([, h]) => h.name_label === 'h2')?.[0] as Ref;
		(b2.snapshot.host[h2] as { enabled: boolean }).enabled = false;
		const s2 = b2.finish();
		expect(vmAgility(s2, vms2.unplugged)).toEqual({ agile: true });
		expect(vmAgility(s2, vms2.localDisk)).toMatchObject({ agile: false });
		expect(vmAgility(s2, vms2.partialNet)).toEqual({ agile: true });
	});

	it('the bulk form agrees with the single form', () => {
		const all = allVmAgility(s);
		for (const ref of Object.values(vms)) expect(all[ref]).toEqual(vmAgility(s, ref));
		expect(vmAgility(s, NULL_REF)).toMatchObject({ agile: false, code: XapiCode.HANDLE_INVALID });
	});
});
