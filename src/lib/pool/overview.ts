import { isProtectedPriority, priorityLevel, type PriorityLevel } from '$lib/ha/priority';
import { NULL_REF, type PowerState, type Ref, type Snapshot } from '$lib/xapi/records';

export interface VmOverview {
	ref: Ref;
	name: string;
	powerState: PowerState;
	/** Memory the VM holds on its host: static max plus overhead, as the toolstack counts it. */
	memory: number;
	priority: PriorityLevel;
	protected: boolean;
	order: number;
	startDelay: number;
	residentOn: Ref | null;
}

export interface HostOverview {
	ref: Ref;
	name: string;
	address: string;
	isMaster: boolean;
	live: boolean;
	enabled: boolean;
	memoryTotal: number;
	memoryFree: number;
	vms: VmOverview[];
	/** Statefile VDIs this host currently uses (host.ha_statefiles); empty when it lost them or HA is off. */
	haStatefiles?: Ref[];
	/** Hosts this one hears heartbeats from (host.ha_network_peers, as uuids). */
	haNetworkPeers?: string[];
}

export interface SrOverview {
	ref: Ref;
	name: string;
	type: string;
	shared: boolean;
	size: number;
	free: number;
	/** Hosts with the SR currently attached. */
	hosts: Ref[];
	heartbeat: boolean;
}

export interface PoolOverview {
	ref: Ref;
	name: string;
	haEnabled: boolean;
	haHostFailuresToTolerate: number;
	haPlanExistsFor: number;
	haOvercommitted: boolean;
	/** pool.ha_allow_overcommit. */
	haAllowOvercommit?: boolean;
	/** pool.ha_configuration.timeout in seconds (60 when unset). */
	haTimeout?: number;
	/** The statefile VDIs the pool uses (pool.ha_statefiles). */
	haStatefiles?: Ref[];
	hosts: HostOverview[];
	srs: SrOverview[];
	/** VMs not resident on any host (halted, suspended). */
	offlineVms: VmOverview[];
}

/** The subset of classes the overview reads. */
export type OverviewClasses = Pick<Snapshot, 'pool' | 'host' | 'host_metrics' | 'VM' | 'SR' | 'PBD' | 'VDI'>;

/** The HA timeout as the toolstack reads it: ha_configuration.timeout, else 60 s. */
function haTimeoutSeconds(configuration: Record<string, string> | undefined): number {
	const value = Number(configuration?.['timeout']);
	return Number.isFinite(value) && value > 0 ? value : 60;
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name, 'en', { numeric: true });

/**
 * Reduces raw XAPI records to what the pool view draws. Pure: the server calls it on fetched
 * records, the browser on live updates.
 */
export function poolOverview(s: OverviewClasses): PoolOverview {
	const [poolRef, pool] = Object.entries(s.pool)[0] ?? [];
	if (!poolRef || !pool) throw new Error('the pool record is missing');

	const vmOverview = (ref: Ref): VmOverview | null => {
		const vm = s.VM[ref];
		if (!vm || vm.is_a_template || vm.is_a_snapshot || vm.is_control_domain) return null;
		return {
			ref,
			name: vm.name_label,
			powerState: vm.power_state,
			memory: vm.memory_static_max + vm.memory_overhead,
			priority: priorityLevel(vm.ha_restart_priority, vm.order),
			protected: isProtectedPriority(vm.ha_restart_priority),
			order: vm.order,
			startDelay: vm.start_delay,
			residentOn: vm.resident_on === NULL_REF ? null : vm.resident_on
		};
	};

	const hosts: HostOverview[] = Object.entries(s.host).map(([ref, host]) => {
		const metrics = s.host_metrics[host.metrics];
		const vms = Object.entries(s.VM)
			.filter(([, vm]) => vm.resident_on === ref && (vm.power_state === 'Running' || vm.power_state === 'Paused'))
			.map(([vmRef]) => vmOverview(vmRef))
			.filter((vm): vm is VmOverview => vm !== null)
			.sort((a, b) => b.memory - a.memory || byName(a, b));
		return {
			ref,
			name: host.name_label,
			address: host.address,
			isMaster: ref === pool.master,
			live: metrics?.live ?? false,
			enabled: host.enabled,
			memoryTotal: metrics?.memory_total ?? 0,
			memoryFree: metrics?.memory_free ?? 0,
			vms,
			haStatefiles: [...(host.ha_statefiles ?? [])],
			haNetworkPeers: [...(host.ha_network_peers ?? [])]
		};
	});
	hosts.sort((a, b) => Number(b.isMaster) - Number(a.isMaster) || byName(a, b));

	const heartbeatSrs = new Set(pool.ha_statefiles.map((vdi) => s.VDI[vdi]?.SR).filter((sr): sr is Ref => sr !== undefined));
	const srs: SrOverview[] = Object.entries(s.SR)
		.map(([ref, sr]) => ({
			ref,
			name: sr.name_label,
			type: sr.type,
			shared: sr.shared,
			size: sr.physical_size,
			free: Math.max(0, sr.physical_size - sr.physical_utilisation),
			hosts: sr.PBDs.map((pbd) => s.PBD[pbd]).filter((pbd) => pbd?.currently_attached).map((pbd) => pbd?.host ?? NULL_REF),
			heartbeat: heartbeatSrs.has(ref)
		}))
		.sort((a, b) => Number(b.shared) - Number(a.shared) || byName(a, b));

	const offlineVms = Object.entries(s.VM)
		.filter(([, vm]) => vm.power_state === 'Halted' || vm.power_state === 'Suspended')
		.map(([ref]) => vmOverview(ref))
		.filter((vm): vm is VmOverview => vm !== null)
		.sort(byName);

	return {
		ref: poolRef,
		name: pool.name_label,
		haEnabled: pool.ha_enabled,
		haHostFailuresToTolerate: pool.ha_host_failures_to_tolerate,
		haPlanExistsFor: pool.ha_plan_exists_for,
		haOvercommitted: pool.ha_overcommitted,
		haAllowOvercommit: pool.ha_allow_overcommit,
		haTimeout: haTimeoutSeconds(pool.ha_configuration),
		haStatefiles: [...pool.ha_statefiles],
		hosts,
		srs,
		offlineVms
	};
}
