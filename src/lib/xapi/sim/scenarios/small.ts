import { ScenarioBuilder, type Scenario } from '../scenario-builder';
import { standardUsers } from './users';

/**
 * The demo pool: three hosts, a shared iSCSI SR big enough for the heartbeat, an NFS ISO
 * library, local storage on each host, and a dozen VMs of mixed sizes and states. HA is off,
 * ready for the wizard. Two VMs are pinned by local disks, so not agile.
 */
export function smallScenario(): Scenario {
	const b = new ScenarioBuilder(3);
	b.pool('Haven demo pool', { description: 'Three hosts on the embedded simulated pool' });
	const hosts = [1, 2, 3].map((n) => b.host({ name: `xcp-host-${n}`, memoryGiB: 64 }));
	const [h1, h2, h3] = hosts as [string, string, string];
	const lan = b.network('Pool-wide network associated with eth0', hosts);
	const backup = b.network('Backup network (host 1 only)', [h1]);
	const iscsi = b.sr({ name: 'iSCSI shared storage', type: 'lvmoiscsi', shared: true, sizeGiB: 2048, usedGiB: 600, hosts: hosts.map((host) => ({ host })) });
	const iso = b.sr({ name: 'ISO library', type: 'iso', shared: true, sizeGiB: 200, usedGiB: 40, contentType: 'iso', hosts: hosts.map((host) => ({ host })) });
	const locals = hosts.map((host, i) => b.sr({ name: `Local storage on xcp-host-${i + 1}`, type: 'lvm', shared: false, sizeGiB: 900, usedGiB: 100, hosts: [{ host }] }));
	const installer = b.vdi(iso, 'debian-12-netinst.iso', 1, 'user');

	const shared = (sizeGiB: number) => [{ sr: iscsi, sizeGiB }];
	const vms: Parameters<ScenarioBuilder['vm']>[0][] = [
		{ name: 'db-primary', memoryGiB: 16, host: h1, vcpus: 8, disks: shared(200), networks: [lan] },
		{ name: 'web-1', memoryGiB: 4, host: h1, disks: shared(20), networks: [lan] },
		{ name: 'mail', memoryGiB: 8, host: h1, disks: shared(100), networks: [lan] },
		{ name: 'backup-agent', memoryGiB: 2, host: h1, disks: shared(10), networks: [lan, backup] },
		{ name: 'db-replica', memoryGiB: 16, host: h2, vcpus: 8, disks: shared(200), networks: [lan] },
		{ name: 'web-2', memoryGiB: 4, host: h2, disks: shared(20), networks: [lan] },
		{ name: 'build-cache', memoryGiB: 6, host: h2, disks: [{ sr: locals[1] as string, sizeGiB: 300 }], networks: [lan] },
		{ name: 'monitoring', memoryGiB: 4, host: h2, disks: shared(50), networks: [lan], cd: installer },
		{ name: 'app-1', memoryGiB: 8, host: h3, disks: shared(40), networks: [lan] },
		{ name: 'app-2', memoryGiB: 8, host: h3, disks: shared(40), networks: [lan] },
		{ name: 'ldap', memoryGiB: 2, host: h3, disks: shared(10), networks: [lan] },
		{ name: 'test-vm', memoryGiB: 4, host: null, power: 'Halted', disks: shared(20), networks: [lan] },
		{ name: 'old-reporting', memoryGiB: 12, host: null, power: 'Suspended', disks: shared(80), networks: [lan] }
	];
	for (const vm of vms) b.vm(vm);

	return {
		name: 'small',
		description: 'Demo pool: 3 hosts, shared iSCSI SR, 13 VMs, HA off',
		snapshot: b.finish(),
		// root/admin, operator and helpdesk are what the demo and Haven's tests log in as; the
		// others give every XAPI role a user, for RBAC checks.
		users: standardUsers()
	};
}
