import { ScenarioBuilder, type Scenario } from '../scenario-builder';
import { settleHaStatus } from './ha-status';
import { standardUsers } from './users';

/**
 * HA on, configured to tolerate 2 host failures, but the protected VMs fill the hosts so that
 * the plan covers fewer: overcommit is allowed, so the pool is flagged (ha_overcommitted true,
 * ha_plan_exists_for below the configured number) instead of refusing the configuration.
 */
export function overcommittedScenario(): Scenario {
	const b = new ScenarioBuilder(37);
	b.pool('Overcommitted pool', { description: 'HA on, more failures configured than the plan covers' });
	const hosts = [1, 2, 3, 4].map((n) => b.host({ name: `oc-host-${n}`, memoryGiB: 64 }));
	const lan = b.network('Pool-wide network associated with eth0', hosts);
	const iscsi = b.sr({ name: 'iSCSI shared storage', type: 'lvmoiscsi', shared: true, sizeGiB: 2048, usedGiB: 900, hosts: hosts.map((host) => ({ host })) });
	const sizes = [16, 12, 8, 8];
	for (const [i, host] of hosts.entries()) {
		for (const [j, memoryGiB] of sizes.entries()) {
			b.vm({
				name: `svc-${i + 1}-${j + 1}`,
				memoryGiB,
				host,
				disks: [{ sr: iscsi, sizeGiB: 40 }],
				networks: [lan],
				priority: j < 3 ? 'restart' : 'best-effort',
				order: j,
				startDelay: j === 0 ? 10 : 0
			});
		}
	}
	b.enableHa(iscsi, { hostFailuresToTolerate: 2, allowOvercommit: true });
	const snapshot = b.finish();
	settleHaStatus(snapshot);
	return {
		name: 'overcommitted',
		description: 'HA on with ntol 2, plan covers fewer: ha_overcommitted',
		snapshot,
		users: standardUsers()
	};
}
