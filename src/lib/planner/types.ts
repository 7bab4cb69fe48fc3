import type { Ref } from '../xapi/records';

/** A restart priority as a what-if may give it: the bare string, or the string with an order. */
export type PrioritySetting = string | { priority: string; order?: number };

/**
 * One value describing a hypothetical change (like xapi's `configuration_change`); every
 * planner function takes it, and the empty object means "the pool as it is".
 */
export type WhatIf = {
	/** VM ref → priority, laid over the VMs' own priorities. */
	priorities?: Record<Ref, PrioritySetting>;
	/**
	 * When true, `priorities` is the whole configuration: VMs it does not name are unprotected.
	 * This is how `pool.ha_compute_hypothetical_max_host_failures_to_tolerate` reads its map.
	 */
	prioritiesReplaceAll?: boolean;
	/** Hosts to treat as failed (not live): their VMs must be restarted elsewhere. */
	failedHosts?: Ref[];
	/** Hosts to pretend are disabled (xapi's `hosts_to_disable`). */
	hostsToDisable?: Ref[];
	/** Host ref → extra bytes of memory (for "what if this host had more RAM"). */
	extraMemory?: Record<Ref, number>;
};

export type Agility = { agile: true } | { agile: false; code: string; params: string[] };

/** Normalised restart priority. Legacy "0".."3" become `restart` with that order. */
export type Priority = 'restart' | 'best-effort' | '';

export interface HostModel {
	readonly ref: Ref;
	readonly uuid: string;
	readonly name: string;
	readonly enabled: boolean;
	/** host_metrics.live (false when the metrics record is missing). */
	readonly metricsLive: boolean;
	/** Enabled, metrics live, and not failed/disabled by the what-if. */
	readonly live: boolean;
	readonly memoryTotal: number;
	readonly memoryOverhead: number;
	/** Σ(memory_static_max + memory_overhead) of VMs resident or scheduled here. */
	readonly residentFootprint: number;
	/** Of which control domains. */
	readonly controlDomainFootprint: number;
	/** Of which protected VMs. */
	readonly protectedFootprint: number;
	/** max(0, total − overhead − residentFootprint): the toolstack's free memory. */
	readonly free: number;
	readonly residentVMs: readonly Ref[];
}

export interface VmModel {
	readonly ref: Ref;
	readonly uuid: string;
	readonly name: string;
	readonly powerState: string;
	readonly isControlDomain: boolean;
	/** memory_static_max + memory_overhead. */
	readonly need: number;
	readonly priority: Priority;
	/** The raw priority string (what was set or what the what-if says). */
	readonly rawPriority: string;
	readonly order: number;
	readonly startDelay: number;
	/** Restart priority, Running or Paused, not a control domain. */
	readonly protected: boolean;
	/** Best-effort, Running or Paused, not a control domain. */
	readonly bestEffort: boolean;
	/** Host the VM's memory is accounted to (resident_on, else scheduled_to_be_resident_on), or null. */
	readonly host: Ref | null;
	readonly agility: Agility;
}

/** The immutable planning model: hosts and VMs in uuid order (the toolstack's deterministic order). */
export interface PoolModel {
	readonly hosts: readonly HostModel[];
	readonly vms: readonly VmModel[];
	readonly hostByRef: ReadonlyMap<Ref, HostModel>;
	readonly vmByRef: ReadonlyMap<Ref, VmModel>;
	/** All host records (xapi's `total_hosts`, the bisection's upper bound). */
	readonly totalHosts: number;
	/** HA timeout in seconds (pool.ha_configuration.timeout, default 60). */
	readonly haTimeout: number;
}
