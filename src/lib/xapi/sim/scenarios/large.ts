import { ScenarioBuilder, type Scenario } from '../scenario-builder';
import { settleHaStatus } from './ha-status';
import { standardUsers } from './users';

const HOSTS = 64;
const VMS = 4000;

/**
 * A big pool for scale: 64 hosts and 4,000 VMs on four shared SRs, HA on with one failure to
 * tolerate. Past 32 hosts the toolstack plans with its approximation, as here.
 * Built from a seed, so two builds are identical; takes well under a second.
 */
export function largeScenario(): Scenario {
	const b = new ScenarioBuilder(64_4000);
	b.pool('Large pool', { description: `${HOSTS} hosts, ${VMS} VMs` });
	const hosts = Array.from({ length: HOSTS }, (_, i) => b.host({ name: `big-host-${String(i + 1).padStart(2, '0')}`, memoryGiB: 512, address: `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}` }));
	const networks = [b.network('Pool-wide network associated with eth0', hosts), b.network('Pool-wide network associated with eth1', hosts)];
	const srs = [1, 2, 3, 4].map((n) =>
		b.sr({ name: `Shared SR ${n}`, type: n % 2 === 0 ? 'nfs' : 'lvmoiscsi', shared: true, sizeGiB: 65536, usedGiB: 20000, hosts: hosts.map((host) => ({ host })) })
	);
	const sizes = [1, 2, 2, 4, 4, 4, 8, 8, 16];
	for (let i = 0; i < VMS; i++) {
		const roll = b.random();
		const running = roll < 0.92;
		const kind = b.random();
		b.vm({
			name: `vm-${String(i + 1).padStart(4, '0')}`,
			memoryGiB: sizes[Math.floor(b.random() * sizes.length)] ?? 2,
			host: running ? (hosts[i % HOSTS] ?? null) : null,
			power: running ? 'Running' : 'Halted',
			vcpus: 2,
			disks: [{ sr: srs[i % srs.length] as string, sizeGiB: 20 }],
			networks: [networks[i % 2] as string],
			priority: kind < 0.3 ? 'restart' : kind < 0.4 ? 'best-effort' : '',
			order: Math.floor(b.random() * 3),
			startDelay: 0
		});
	}
	b.enableHa(srs[0] as string, { hostFailuresToTolerate: 1 });
	const snapshot = b.finish();
	settleHaStatus(snapshot);
	return { name: 'large', description: `${HOSTS} hosts, ${VMS} VMs, HA on`, snapshot, users: standardUsers() };
}
