import {
	NULL_REF,
	emptySnapshot,
	type HostRecord,
	type PowerState,
	type Ref,
	type Snapshot,
	type VMRecord
} from '../records';
import { seededRandom, seededUuid } from './random';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** XAPI roles, strongest first (see the reference's RBAC section). */
export const ROLES = ['pool-admin', 'pool-operator', 'vm-power-admin', 'vm-admin', 'vm-operator', 'read-only'] as const;
export type Role = (typeof ROLES)[number];

export interface SimUser {
	name: string;
	role: Role;
}

export interface Scenario {
	name: string;
	description: string;
	snapshot: Snapshot;
	users: SimUser[];
}

export interface HostSpec {
	name: string;
	memoryGiB: number;
	/** Loopback address of this host's XAPI endpoint; defaults to 127.0.0.<n>. */
	address?: string;
	enabled?: boolean;
	live?: boolean;
}

export interface SRSpec {
	name: string;
	type: string;
	shared: boolean;
	sizeGiB: number;
	usedGiB?: number;
	contentType?: string;
	/** Hosts with a PBD for this SR; `attached` false leaves the PBD unplugged. */
	hosts: { host: Ref; attached?: boolean }[];
	description?: string;
}

export interface VMSpec {
	name: string;
	memoryGiB: number;
	host: Ref | null;
	power?: PowerState;
	priority?: string;
	order?: number;
	startDelay?: number;
	vcpus?: number;
	disks?: { sr: Ref; sizeGiB: number }[];
	networks?: Ref[];
	vgpu?: boolean;
	vusb?: boolean;
	pci?: boolean;
	sriov?: boolean;
	cd?: Ref | null;
}

/** The memory xapi reserves beside a VM's own: stored in `memory_overhead`, used by planning. */
export function vmMemoryOverhead(staticMax: number, vcpus: number): number {
	const bytes = Math.ceil(staticMax / 128) + vcpus * MiB;
	return Math.ceil(bytes / MiB) * MiB;
}

/**
 * Builds a consistent snapshot: back-references (host.resident_VMs, SR.PBDs, network.PIFs, ...)
 * are filled as objects are added, and `finish()` computes host_metrics.memory_free the way the
 * toolstack does, so scenarios never disagree with themselves.
 */
export class ScenarioBuilder {
	readonly snapshot: Snapshot = emptySnapshot();
	readonly #random: () => number;
	#hostCount = 0;

	constructor(seed: number) {
		this.#random = seededRandom(seed);
	}

	uuid(): string {
		return seededUuid(this.#random);
	}

	ref(): Ref {
		return `OpaqueRef:${this.uuid()}`;
	}

	random(): number {
		return this.#random();
	}

	pool(name: string, opts: { licensed?: boolean; description?: string } = {}): Ref {
		const ref = this.ref();
		this.snapshot.pool[ref] = {
			uuid: this.uuid(),
			name_label: name,
			name_description: opts.description ?? '',
			master: NULL_REF,
			default_SR: NULL_REF,
			ha_enabled: false,
			ha_configuration: {},
			ha_statefiles: [],
			ha_host_failures_to_tolerate: 0,
			ha_plan_exists_for: 0,
			ha_allow_overcommit: false,
			ha_overcommitted: false,
			ha_cluster_stack: 'xhad',
			restrictions: { enable_xha: opts.licensed === false ? 'false' : 'true' },
			other_config: {}
		};
		return ref;
	}

	get poolRef(): Ref {
		const ref = Object.keys(this.snapshot.pool)[0];
		if (!ref) throw new Error('scenario has no pool yet');
		return ref;
	}

	host(spec: HostSpec): Ref {
		this.#hostCount += 1;
		const ref = this.ref();
		const metrics = this.ref();
		const address = spec.address ?? `127.0.0.${this.#hostCount}`;
		const total = spec.memoryGiB * GiB;
		this.snapshot.host_metrics[metrics] = {
			uuid: this.uuid(),
			live: spec.live ?? true,
			memory_total: total,
			memory_free: total,
			last_updated: '20261125T00:00:00Z'
		};
		const licensed = this.snapshot.pool[this.poolRef]?.restrictions['enable_xha'] === 'true';
		const host: HostRecord = {
			uuid: this.uuid(),
			name_label: spec.name,
			name_description: '',
			hostname: spec.name,
			address,
			enabled: spec.enabled ?? true,
			metrics,
			memory_overhead: Math.ceil(total / 100 / MiB) * MiB,
			resident_VMs: [],
			PBDs: [],
			PIFs: [],
			ha_statefiles: [],
			ha_network_peers: [],
			license_params: { enable_xha: licensed ? 'true' : 'false', sku_type: licensed ? 'enterprise' : 'free' },
			edition: licensed ? 'enterprise' : 'free',
			software_version: { product_brand: 'XCP-ng', product_version: '8.3.0' },
			cpu_info: { cpu_count: '32' },
			other_config: {}
		};
		this.snapshot.host[ref] = host;
		const pool = this.snapshot.pool[this.poolRef];
		if (pool && pool.master === NULL_REF) pool.master = ref;
		this.#controlDomain(ref, spec.name);
		return ref;
	}

	#controlDomain(host: Ref, hostName: string): void {
		this.vm({ name: `Control domain on host: ${hostName}`, memoryGiB: 4, host, vcpus: 8 }, { controlDomain: true });
	}

	network(name: string, hosts: Ref[], bridge?: string): Ref {
		const ref = this.ref();
		this.snapshot.network[ref] = {
			uuid: this.uuid(),
			name_label: name,
			name_description: '',
			bridge: bridge ?? `xenbr${Object.keys(this.snapshot.network).length}`,
			PIFs: [],
			VIFs: [],
			MTU: 1500
		};
		for (const host of hosts) {
			const pif = this.ref();
			this.snapshot.PIF[pif] = {
				uuid: this.uuid(),
				device: `eth${Object.values(this.snapshot.PIF).filter((p) => p.host === host).length}`,
				host,
				network: ref,
				IP: '',
				currently_attached: true,
				management: Object.values(this.snapshot.PIF).every((p) => p.host !== host)
			};
			this.snapshot.network[ref]?.PIFs.push(pif);
			this.snapshot.host[host]?.PIFs.push(pif);
		}
		return ref;
	}

	sr(spec: SRSpec): Ref {
		const ref = this.ref();
		const haCapable = ['lvmoiscsi', 'lvmohba', 'lvmofcoe', 'nfs'].includes(spec.type);
		this.snapshot.SR[ref] = {
			uuid: this.uuid(),
			name_label: spec.name,
			name_description: spec.description ?? '',
			type: spec.type,
			content_type: spec.contentType ?? (spec.type === 'iso' ? 'iso' : 'user'),
			shared: spec.shared,
			physical_size: Math.round(spec.sizeGiB * GiB),
			physical_utilisation: Math.round((spec.usedGiB ?? 0) * GiB),
			virtual_allocation: Math.round((spec.usedGiB ?? 0) * GiB),
			PBDs: [],
			VDIs: [],
			allowed_operations: ['scan', 'vdi_create', 'vdi_destroy', 'plug', 'unplug', ...(haCapable ? ['vdi_enable_cbt'] : [])],
			other_config: {}
		};
		for (const { host, attached } of spec.hosts) {
			const pbd = this.ref();
			this.snapshot.PBD[pbd] = { uuid: this.uuid(), host, SR: ref, currently_attached: attached ?? true, device_config: {} };
			this.snapshot.SR[ref]?.PBDs.push(pbd);
			this.snapshot.host[host]?.PBDs.push(pbd);
		}
		return ref;
	}

	vdi(sr: Ref, name: string, sizeGiB: number, type = 'user'): Ref {
		const ref = this.ref();
		this.snapshot.VDI[ref] = {
			uuid: this.uuid(),
			name_label: name,
			name_description: '',
			SR: sr,
			virtual_size: sizeGiB * GiB,
			physical_utilisation: sizeGiB * GiB,
			type,
			sharable: false,
			read_only: false,
			VBDs: []
		};
		this.snapshot.SR[sr]?.VDIs.push(ref);
		return ref;
	}

	vm(spec: VMSpec, opts: { controlDomain?: boolean } = {}): Ref {
		const ref = this.ref();
		const metrics = this.ref();
		const vcpus = spec.vcpus ?? 2;
		const staticMax = Math.round(spec.memoryGiB * GiB);
		const power = spec.power ?? (spec.host ? 'Running' : 'Halted');
		const onHost = power === 'Running' || power === 'Paused' ? (spec.host ?? NULL_REF) : NULL_REF;
		const priority = spec.priority ?? '';
		const record: VMRecord = {
			uuid: this.uuid(),
			name_label: spec.name,
			name_description: '',
			power_state: power,
			resident_on: onHost,
			scheduled_to_be_resident_on: NULL_REF,
			affinity: spec.host ?? NULL_REF,
			is_a_template: false,
			is_control_domain: opts.controlDomain ?? false,
			is_a_snapshot: false,
			memory_static_max: staticMax,
			memory_static_min: Math.min(staticMax, 512 * MiB),
			memory_dynamic_max: staticMax,
			memory_dynamic_min: staticMax,
			memory_overhead: vmMemoryOverhead(staticMax, vcpus),
			VCPUs_max: vcpus,
			ha_restart_priority: priority,
			ha_always_run: priority === 'restart' || /^[0-3]$/.test(priority),
			order: spec.order ?? 0,
			start_delay: spec.startDelay ?? 0,
			VBDs: [],
			VIFs: [],
			VGPUs: [],
			VUSBs: [],
			attached_PCIs: [],
			metrics,
			allowed_operations: [],
			other_config: {}
		};
		this.snapshot.VM[ref] = record;
		this.snapshot.VM_metrics[metrics] = {
			uuid: this.uuid(),
			memory_actual: onHost === NULL_REF ? 0 : staticMax,
			VCPUs_number: vcpus,
			start_time: '20261125T00:00:00Z',
			last_updated: '20261125T00:00:00Z'
		};
		if (onHost !== NULL_REF) this.snapshot.host[onHost]?.resident_VMs.push(ref);
		for (const [i, disk] of (spec.disks ?? []).entries()) {
			const vdi = this.vdi(disk.sr, `${spec.name} disk ${i}`, disk.sizeGiB);
			this.#vbd(ref, vdi, 'Disk', String(i));
		}
		if (spec.cd !== undefined) this.#vbd(ref, spec.cd ?? NULL_REF, 'CD', '3');
		for (const [i, network] of (spec.networks ?? []).entries()) {
			const vif = this.ref();
			this.snapshot.VIF[vif] = {
				uuid: this.uuid(),
				VM: ref,
				network,
				device: String(i),
				MAC: this.#mac(),
				currently_attached: onHost !== NULL_REF,
				reserved_pci: NULL_REF
			};
			record.VIFs.push(vif);
			this.snapshot.network[network]?.VIFs.push(vif);
		}
		// Pass-through devices: the classes themselves are not modelled, only the refs that pin a VM.
		if (spec.vgpu) record.VGPUs.push(this.ref());
		if (spec.vusb) record.VUSBs.push(this.ref());
		if (spec.pci) record.attached_PCIs.push(this.ref());
		if (spec.sriov) {
			const vif = this.ref();
			this.snapshot.VIF[vif] = {
				uuid: this.uuid(),
				VM: ref,
				network: spec.networks?.[0] ?? NULL_REF,
				device: String(record.VIFs.length),
				MAC: this.#mac(),
				currently_attached: true,
				reserved_pci: this.ref()
			};
			record.VIFs.push(vif);
		}
		return ref;
	}

	#vbd(vm: Ref, vdi: Ref, type: 'Disk' | 'CD', userdevice: string): void {
		const ref = this.ref();
		this.snapshot.VBD[ref] = {
			uuid: this.uuid(),
			VM: vm,
			VDI: vdi,
			type,
			device: type === 'CD' ? 'xvdd' : `xvd${String.fromCharCode(97 + Number(userdevice))}`,
			userdevice,
			bootable: userdevice === '0',
			currently_attached: true,
			empty: vdi === NULL_REF
		};
		this.snapshot.VM[vm]?.VBDs.push(ref);
		if (vdi !== NULL_REF) this.snapshot.VDI[vdi]?.VBDs.push(ref);
	}

	#mac(): string {
		return Array.from({ length: 6 }, (_, i) => (i === 0 ? 0x02 : Math.floor(this.#random() * 256)).toString(16).padStart(2, '0')).join(':');
	}

	/**
	 * Puts the pool in the state `pool.enable_ha` leaves it in: statefile and metadata VDIs on
	 * `sr`, pool and host HA fields set. Planning fields (ha_plan_exists_for, ha_overcommitted)
	 * are the scenario's to set, from the planner, so they agree with the pool's own answers.
	 */
	enableHa(sr: Ref, opts: { hostFailuresToTolerate: number; allowOvercommit?: boolean; timeoutSeconds?: number }): void {
		const statefile = this.vdi(sr, 'Statefile for HA', 0, 'ha_statefile');
		const metadata = this.vdi(sr, 'Metadata for HA', 0, 'redo_log');
		const statefileRecord = this.snapshot.VDI[statefile];
		const metadataRecord = this.snapshot.VDI[metadata];
		if (statefileRecord) statefileRecord.virtual_size = statefileRecord.physical_utilisation = 4 * MiB;
		if (metadataRecord) metadataRecord.virtual_size = metadataRecord.physical_utilisation = 256 * MiB;
		const pool = this.snapshot.pool[this.poolRef];
		if (!pool) throw new Error('scenario has no pool yet');
		pool.ha_enabled = true;
		pool.ha_statefiles = [statefile];
		pool.ha_configuration = opts.timeoutSeconds ? { timeout: String(opts.timeoutSeconds) } : {};
		pool.ha_host_failures_to_tolerate = opts.hostFailuresToTolerate;
		pool.ha_allow_overcommit = opts.allowOvercommit ?? false;
		const hosts = Object.entries(this.snapshot.host);
		for (const [ref, host] of hosts) {
			host.ha_statefiles = [statefile];
			host.ha_network_peers = hosts.filter(([r]) => r !== ref).map(([, h]) => h.uuid);
		}
	}

	finish(): Snapshot {
		recomputeHostMemoryFree(this.snapshot);
		return this.snapshot;
	}
}

/** The memory a VM holds on its host, as the toolstack counts it. */
export function vmFootprint(vm: VMRecord): number {
	return vm.memory_static_max + vm.memory_overhead;
}

/** host_metrics.memory_free = total - host overhead - every resident VM's footprint (never < 0). */
export function recomputeHostMemoryFree(snapshot: Snapshot): void {
	for (const host of Object.values(snapshot.host)) {
		const metrics = snapshot.host_metrics[host.metrics];
		if (!metrics) continue;
		let used = host.memory_overhead;
		for (const vmRef of host.resident_VMs) {
			const vm = snapshot.VM[vmRef];
			if (vm) used += vmFootprint(vm);
		}
		metrics.memory_free = Math.max(0, metrics.memory_total - used);
	}
}
