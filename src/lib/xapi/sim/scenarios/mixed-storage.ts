import { ScenarioBuilder, type Scenario } from '../scenario-builder';
import { standardUsers } from './users';

/**
 * Storage and VMs chosen to exercise every answer the heartbeat-SR and agility checks give.
 *
 * SRs: three that can host the statefile (iSCSI, Fibre Channel, NFS) and one per reason one
 * cannot: local storage (no PBD on the other hosts: SR_NO_PBDS), an iSCSI LUN flagged unshared
 * (SR_OPERATION_NOT_SUPPORTED), one not attached on host 4 (no PBD: SR_NO_PBDS), one whose PBD
 * on host 2 is unplugged (SR_NO_PBDS), one too small (SR_SOURCE_SPACE_INSUFFICIENT), and
 * NetApp / EqualLogic / ISO backends that lack the SM features (SR_OPERATION_NOT_SUPPORTED).
 *
 * VMs: agile ones, and one non-agile VM per cause: local disk, disk on the unshared LUN, disk on
 * the SR missing from host 4, a NIC on a network only host 1 has, a NIC on a host-internal
 * network (no PIFs), vGPU, USB pass-through, PCI pass-through and an SR-IOV NIC.
 */
export function mixedStorageScenario(): Scenario {
	const b = new ScenarioBuilder(23);
	b.pool('Mixed storage pool', { description: 'Four hosts, SRs that do and do not qualify for the heartbeat' });
	const hosts = [1, 2, 3, 4].map((n) => b.host({ name: `mix-host-${n}`, memoryGiB: 128 }));
	const [h1, h2, h3, h4] = hosts as [string, string, string, string];
	const all = hosts.map((host) => ({ host }));
	const lan = b.network('Pool-wide network associated with eth0', hosts);
	const storageNet = b.network('Storage network associated with eth1', hosts);
	const h1Only = b.network('Lab network (mix-host-1 only)', [h1]);
	const internal = b.network('Host internal management network', []);

	const iscsi = b.sr({ name: 'iSCSI heartbeat LUN', type: 'lvmoiscsi', shared: true, sizeGiB: 512, usedGiB: 100, hosts: all });
	const fc = b.sr({ name: 'Fibre Channel SAN', type: 'lvmohba', shared: true, sizeGiB: 4096, usedGiB: 1800, hosts: all });
	const nfs = b.sr({ name: 'NFS VM store', type: 'nfs', shared: true, sizeGiB: 2048, usedGiB: 900, hosts: all });
	const locals = hosts.map((host, i) => b.sr({ name: `Local storage on mix-host-${i + 1}`, type: 'lvm', shared: false, sizeGiB: 900, usedGiB: 120, hosts: [{ host }] }));
	const unshared = b.sr({ name: 'iSCSI LUN not marked shared', type: 'lvmoiscsi', shared: false, sizeGiB: 256, usedGiB: 10, hosts: all });
	const missingOn4 = b.sr({ name: 'iSCSI LUN not attached to mix-host-4', type: 'lvmoiscsi', shared: true, sizeGiB: 256, usedGiB: 10, hosts: [{ host: h1 }, { host: h2 }, { host: h3 }] });
	b.sr({ name: 'NFS share unplugged on mix-host-2', type: 'nfs', shared: true, sizeGiB: 256, usedGiB: 10, hosts: [{ host: h1 }, { host: h2, attached: false }, { host: h3 }, { host: h4 }] });
	b.sr({ name: 'Tiny iSCSI LUN (1 GiB, 256 MiB free)', type: 'lvmoiscsi', shared: true, sizeGiB: 1, usedGiB: 0.75, hosts: all });
	b.sr({ name: 'NetApp filer', type: 'netapp', shared: true, sizeGiB: 8192, usedGiB: 2000, hosts: all, description: 'StorageLink NetApp adapter' });
	b.sr({ name: 'EqualLogic array', type: 'equal', shared: true, sizeGiB: 8192, usedGiB: 1000, hosts: all, description: 'StorageLink Dell EqualLogic adapter' });
	b.sr({ name: 'ISO library', type: 'iso', shared: true, sizeGiB: 200, usedGiB: 40, contentType: 'iso', hosts: all });

	const on = (sr: string, sizeGiB = 20) => [{ sr, sizeGiB }];
	const vms: Parameters<ScenarioBuilder['vm']>[0][] = [
		{ name: 'erp-db', memoryGiB: 32, host: h1, vcpus: 8, disks: on(fc, 500), networks: [lan, storageNet], priority: 'restart', order: 0 },
		{ name: 'erp-app', memoryGiB: 16, host: h2, disks: on(fc, 60), networks: [lan], priority: 'restart', order: 1, startDelay: 30 },
		{ name: 'file-server', memoryGiB: 8, host: h3, disks: on(nfs, 800), networks: [lan] },
		{ name: 'intranet', memoryGiB: 4, host: h4, disks: on(iscsi), networks: [lan], priority: 'best-effort' },
		{ name: 'ci-runner (local disk)', memoryGiB: 8, host: h1, disks: on(locals[0] as string, 200), networks: [lan] },
		{ name: 'legacy-app (unshared LUN)', memoryGiB: 4, host: h2, disks: on(unshared), networks: [lan] },
		{ name: 'archive (SR missing on host 4)', memoryGiB: 4, host: h3, disks: on(missingOn4), networks: [lan] },
		{ name: 'lab-router (host-1-only network)', memoryGiB: 2, host: h1, disks: on(iscsi, 8), networks: [lan, h1Only] },
		{ name: 'appliance (internal network)', memoryGiB: 2, host: h2, disks: on(iscsi, 8), networks: [internal] },
		{ name: 'cad-workstation (vGPU)', memoryGiB: 16, host: h3, disks: on(fc, 100), networks: [lan], vgpu: true },
		{ name: 'licence-dongle (USB)', memoryGiB: 2, host: h4, disks: on(nfs, 10), networks: [lan], vusb: true },
		{ name: 'capture-card (PCI)', memoryGiB: 4, host: h4, disks: on(nfs, 10), networks: [lan], pci: true },
		{ name: 'nfv-firewall (SR-IOV)', memoryGiB: 4, host: h1, disks: on(iscsi, 10), networks: [lan], sriov: true },
		{ name: 'spare-template-vm', memoryGiB: 4, host: null, power: 'Halted', disks: on(nfs), networks: [lan] }
	];
	for (const vm of vms) b.vm(vm);

	return {
		name: 'mixed-storage',
		description: 'SRs that qualify for the heartbeat and every reason one does not; non-agile VMs of each cause',
		snapshot: b.finish(),
		users: standardUsers()
	};
}
