import { ScenarioBuilder, type Scenario } from '../scenario-builder';
import { standardUsers } from './users';

/**
 * A pool on a free licence: the same shape as `small` but `restrictions` lack
 * `enable_xha: "true"`, so `pool.enable_ha` fails with LICENCE_RESTRICTION ["XHA"].
 */
export function unlicensedScenario(): Scenario {
	const b = new ScenarioBuilder(11);
	b.pool('Free-licence pool', { licensed: false, description: 'Two hosts without an HA licence' });
	const hosts = [1, 2].map((n) => b.host({ name: `free-host-${n}`, memoryGiB: 32 }));
	const lan = b.network('Pool-wide network associated with eth0', hosts);
	const nfs = b.sr({ name: 'NFS shared storage', type: 'nfs', shared: true, sizeGiB: 1024, usedGiB: 200, hosts: hosts.map((host) => ({ host })) });
	for (const [i, host] of hosts.entries()) {
		b.vm({ name: `web-${i + 1}`, memoryGiB: 4, host, disks: [{ sr: nfs, sizeGiB: 20 }], networks: [lan] });
		b.vm({ name: `app-${i + 1}`, memoryGiB: 8, host, disks: [{ sr: nfs, sizeGiB: 40 }], networks: [lan] });
	}
	return {
		name: 'unlicensed',
		description: 'Pool without an HA licence: enable_ha fails with LICENCE_RESTRICTION',
		snapshot: b.finish(),
		users: standardUsers()
	};
}
