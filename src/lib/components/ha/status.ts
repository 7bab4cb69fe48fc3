import type { HostOverview, PoolOverview, VmOverview } from '$lib/pool/overview';

export type HealthState = 'ok' | 'degraded' | 'lost' | 'off';

export interface HostHaHealth {
	ref: string;
	name: string;
	isMaster: boolean;
	/** live / failed / maintenance, as the pool view words it. */
	state: 'live' | 'failed' | 'maintenance';
	/** Whether the host still uses the pool's statefile (heartbeat SR). */
	statefile: HealthState;
	/** Network heartbeat: how many of the other live hosts it hears. */
	heartbeat: HealthState;
	peersSeen: number;
	peersExpected: number;
}

export interface PriorityCounts {
	protected: number;
	/** Of the protected VMs, those running or paused: the ones a plan must place. */
	protectedRunning: number;
	bestEffort: number;
	unprotected: number;
}

export interface HaStatus {
	enabled: boolean;
	timeoutSeconds: number;
	heartbeatSrs: { ref: string; name: string; type: string }[];
	configured: number;
	planExistsFor: number;
	overcommitted: boolean;
	allowOvercommit: boolean;
	hosts: HostHaHealth[];
	counts: PriorityCounts;
}

function hostState(host: HostOverview): HostHaHealth['state'] {
	if (!host.live) return 'failed';
	return host.enabled ? 'live' : 'maintenance';
}

/**
 * What the HA tab shows, reduced from the live overview. Pure: recomputed on every update.
 * A host's statefile is healthy when it uses one of the pool's statefile VDIs; its network
 * heartbeat when it hears every other live host (ha_network_peers holds host uuids, which the
 * overview does not carry, so peers are counted, not matched).
 */
export function haStatus(pool: PoolOverview): HaStatus {
	const poolStatefiles = new Set(pool.haStatefiles ?? []);
	const liveHosts = pool.hosts.filter((h) => h.live);
	const hosts = pool.hosts.map((host): HostHaHealth => {
		const state = hostState(host);
		const peersExpected = host.live ? liveHosts.length - 1 : 0;
		const peersSeen = host.haNetworkPeers?.length ?? 0;
		let statefile: HealthState = 'off';
		let heartbeat: HealthState = 'off';
		if (pool.haEnabled) {
			const uses = (host.haStatefiles ?? []).some((vdi) => poolStatefiles.has(vdi));
			statefile = !host.live ? 'lost' : uses ? 'ok' : 'lost';
			heartbeat = !host.live ? 'lost' : peersSeen >= peersExpected ? 'ok' : peersSeen === 0 && peersExpected > 0 ? 'lost' : 'degraded';
		}
		return { ref: host.ref, name: host.name, isMaster: host.isMaster, state, statefile, heartbeat, peersSeen: Math.min(peersSeen, peersExpected), peersExpected };
	});

	const vms: VmOverview[] = [...pool.hosts.flatMap((h) => h.vms), ...pool.offlineVms];
	const counts: PriorityCounts = { protected: 0, protectedRunning: 0, bestEffort: 0, unprotected: 0 };
	for (const vm of vms) {
		if (vm.protected) {
			counts.protected += 1;
			if (vm.powerState === 'Running' || vm.powerState === 'Paused') counts.protectedRunning += 1;
		} else if (vm.priority === 'best-effort') counts.bestEffort += 1;
		else counts.unprotected += 1;
	}

	return {
		enabled: pool.haEnabled,
		timeoutSeconds: pool.haTimeout ?? 60,
		heartbeatSrs: pool.srs.filter((sr) => sr.heartbeat).map((sr) => ({ ref: sr.ref, name: sr.name, type: sr.type })),
		configured: pool.haHostFailuresToTolerate,
		planExistsFor: pool.haPlanExistsFor,
		overcommitted: pool.haOvercommitted,
		allowOvercommit: pool.haAllowOvercommit ?? false,
		hosts,
		counts
	};
}
