/**
 * XAPI records as they travel over JSON-RPC, with XAPI's own snake_case field names.
 * Only the fields Haven reads are typed; a real pool sends many more, which are kept but
 * ignored. int64 fields are numbers here (XML-RPC sends them as strings: the transport
 * converts), memory in bytes.
 *
 * A *snapshot* is a whole pool frozen as `{ [className]: { [OpaqueRef]: record } }`: the format
 * of scenarios, of `npm run snapshot`, and the planner's input.
 */

export type Ref = string;
export const NULL_REF = 'OpaqueRef:NULL';

export interface XapiRecordBase {
	uuid: string;
}

export interface PoolRecord extends XapiRecordBase {
	name_label: string;
	name_description: string;
	master: Ref;
	default_SR: Ref;
	ha_enabled: boolean;
	ha_configuration: Record<string, string>;
	ha_statefiles: string[];
	ha_host_failures_to_tolerate: number;
	ha_plan_exists_for: number;
	ha_allow_overcommit: boolean;
	ha_overcommitted: boolean;
	ha_cluster_stack: string;
	restrictions: Record<string, string>;
	other_config: Record<string, string>;
}

export interface HostRecord extends XapiRecordBase {
	name_label: string;
	name_description: string;
	hostname: string;
	address: string;
	enabled: boolean;
	metrics: Ref;
	memory_overhead: number;
	resident_VMs: Ref[];
	PBDs: Ref[];
	PIFs: Ref[];
	ha_statefiles: string[];
	ha_network_peers: string[];
	license_params: Record<string, string>;
	edition: string;
	software_version: Record<string, string>;
	cpu_info: Record<string, string>;
	other_config: Record<string, string>;
}

export interface HostMetricsRecord extends XapiRecordBase {
	live: boolean;
	memory_total: number;
	memory_free: number;
	last_updated: string;
}

export type PowerState = 'Halted' | 'Paused' | 'Running' | 'Suspended';

export interface VMRecord extends XapiRecordBase {
	name_label: string;
	name_description: string;
	power_state: PowerState;
	resident_on: Ref;
	scheduled_to_be_resident_on: Ref;
	affinity: Ref;
	is_a_template: boolean;
	is_control_domain: boolean;
	is_a_snapshot: boolean;
	memory_static_max: number;
	memory_static_min: number;
	memory_dynamic_max: number;
	memory_dynamic_min: number;
	memory_overhead: number;
	VCPUs_max: number;
	ha_restart_priority: string;
	ha_always_run: boolean;
	order: number;
	start_delay: number;
	VBDs: Ref[];
	VIFs: Ref[];
	VGPUs: Ref[];
	VUSBs: Ref[];
	attached_PCIs: Ref[];
	metrics: Ref;
	allowed_operations: string[];
	other_config: Record<string, string>;
}

export interface VMMetricsRecord extends XapiRecordBase {
	memory_actual: number;
	VCPUs_number: number;
	start_time: string;
	last_updated: string;
}

export interface SRRecord extends XapiRecordBase {
	name_label: string;
	name_description: string;
	type: string;
	content_type: string;
	shared: boolean;
	physical_size: number;
	physical_utilisation: number;
	virtual_allocation: number;
	PBDs: Ref[];
	VDIs: Ref[];
	allowed_operations: string[];
	other_config: Record<string, string>;
}

export interface PBDRecord extends XapiRecordBase {
	host: Ref;
	SR: Ref;
	currently_attached: boolean;
	device_config: Record<string, string>;
}

export interface VDIRecord extends XapiRecordBase {
	name_label: string;
	name_description: string;
	SR: Ref;
	virtual_size: number;
	physical_utilisation: number;
	type: string;
	sharable: boolean;
	read_only: boolean;
	VBDs: Ref[];
}

export interface VBDRecord extends XapiRecordBase {
	VM: Ref;
	VDI: Ref;
	type: 'Disk' | 'CD' | 'Floppy';
	device: string;
	userdevice: string;
	bootable: boolean;
	currently_attached: boolean;
	empty: boolean;
}

export interface VIFRecord extends XapiRecordBase {
	VM: Ref;
	network: Ref;
	device: string;
	MAC: string;
	currently_attached: boolean;
	/** SR-IOV pass-through VIFs cannot move between hosts. */
	reserved_pci: Ref;
}

export interface NetworkRecord extends XapiRecordBase {
	name_label: string;
	name_description: string;
	bridge: string;
	PIFs: Ref[];
	VIFs: Ref[];
	MTU: number;
}

export interface PIFRecord extends XapiRecordBase {
	device: string;
	host: Ref;
	network: Ref;
	IP: string;
	currently_attached: boolean;
	management: boolean;
}

export interface MessageRecord extends XapiRecordBase {
	name: string;
	priority: number;
	cls: string;
	obj_uuid: string;
	timestamp: string;
	body: string;
}

export type TaskStatus = 'pending' | 'success' | 'failure' | 'cancelling' | 'cancelled';

export interface TaskRecord extends XapiRecordBase {
	name_label: string;
	name_description: string;
	status: TaskStatus;
	progress: number;
	result: string;
	error_info: string[];
	created: string;
	finished: string;
	resident_on: Ref;
	allowed_operations: string[];
	other_config: Record<string, string>;
}

/**
 * Fields of the records above that XAPI declares int64: XML-RPC sends them as strings, and the
 * XML-RPC transport turns them back into numbers by this list.
 */
export const INT64_FIELDS: ReadonlySet<string> = new Set([
	'ha_host_failures_to_tolerate',
	'ha_plan_exists_for',
	'memory_overhead',
	'memory_total',
	'memory_free',
	'memory_static_max',
	'memory_static_min',
	'memory_dynamic_max',
	'memory_dynamic_min',
	'memory_actual',
	'VCPUs_max',
	'VCPUs_number',
	'order',
	'start_delay',
	'physical_size',
	'physical_utilisation',
	'virtual_allocation',
	'virtual_size',
	'MTU',
	'priority'
]);

/** The XAPI classes Haven reads, by their XAPI class name (as `get_all_records` is called). */
export interface RecordsByClass {
	pool: PoolRecord;
	host: HostRecord;
	host_metrics: HostMetricsRecord;
	VM: VMRecord;
	VM_metrics: VMMetricsRecord;
	SR: SRRecord;
	PBD: PBDRecord;
	VDI: VDIRecord;
	VBD: VBDRecord;
	VIF: VIFRecord;
	network: NetworkRecord;
	PIF: PIFRecord;
	message: MessageRecord;
	task: TaskRecord;
}

export type XapiClassName = keyof RecordsByClass;

export const XAPI_CLASSES: readonly XapiClassName[] = [
	'pool',
	'host',
	'host_metrics',
	'VM',
	'VM_metrics',
	'SR',
	'PBD',
	'VDI',
	'VBD',
	'VIF',
	'network',
	'PIF',
	'message',
	'task'
];

/** A whole pool: class name → ref → record. Classes absent from a file read as empty. */
export type Snapshot = { [K in XapiClassName]: Record<Ref, RecordsByClass[K]> };

export function emptySnapshot(): Snapshot {
	return Object.fromEntries(XAPI_CLASSES.map((cls) => [cls, {}])) as unknown as Snapshot;
}
