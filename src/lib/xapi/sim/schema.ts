/**
 * The fields the simulator serves per class, checked against the record types so a typo
 * cannot slip in. Field getters (`VM.get_power_state`) are generated from these lists.
 */
import type { RecordsByClass, XapiClassName } from '../records';

export const CLASS_FIELDS: { readonly [K in XapiClassName]: readonly (keyof RecordsByClass[K] & string)[] } = {
	pool: ['uuid', 'name_label', 'name_description', 'master', 'default_SR', 'ha_enabled', 'ha_configuration', 'ha_statefiles', 'ha_host_failures_to_tolerate', 'ha_plan_exists_for', 'ha_allow_overcommit', 'ha_overcommitted', 'ha_cluster_stack', 'restrictions', 'other_config'],
	host: ['uuid', 'name_label', 'name_description', 'hostname', 'address', 'enabled', 'metrics', 'memory_overhead', 'resident_VMs', 'PBDs', 'PIFs', 'ha_statefiles', 'ha_network_peers', 'license_params', 'edition', 'software_version', 'cpu_info', 'other_config'],
	host_metrics: ['uuid', 'live', 'memory_total', 'memory_free', 'last_updated'],
	VM: ['uuid', 'name_label', 'name_description', 'power_state', 'resident_on', 'scheduled_to_be_resident_on', 'affinity', 'is_a_template', 'is_control_domain', 'is_a_snapshot', 'memory_static_max', 'memory_static_min', 'memory_dynamic_max', 'memory_dynamic_min', 'memory_overhead', 'VCPUs_max', 'ha_restart_priority', 'ha_always_run', 'order', 'start_delay', 'VBDs', 'VIFs', 'VGPUs', 'VUSBs', 'attached_PCIs', 'metrics', 'allowed_operations', 'other_config'],
	VM_metrics: ['uuid', 'memory_actual', 'VCPUs_number', 'start_time', 'last_updated'],
	SR: ['uuid', 'name_label', 'name_description', 'type', 'content_type', 'shared', 'physical_size', 'physical_utilisation', 'virtual_allocation', 'PBDs', 'VDIs', 'allowed_operations', 'other_config'],
	PBD: ['uuid', 'host', 'SR', 'currently_attached', 'device_config'],
	VDI: ['uuid', 'name_label', 'name_description', 'SR', 'virtual_size', 'physical_utilisation', 'type', 'sharable', 'read_only', 'VBDs'],
	VBD: ['uuid', 'VM', 'VDI', 'type', 'device', 'userdevice', 'bootable', 'currently_attached', 'empty'],
	VIF: ['uuid', 'VM', 'network', 'device', 'MAC', 'currently_attached', 'reserved_pci'],
	network: ['uuid', 'name_label', 'name_description', 'bridge', 'PIFs', 'VIFs', 'MTU'],
	PIF: ['uuid', 'device', 'host', 'network', 'IP', 'currently_attached', 'management'],
	message: ['uuid', 'name', 'priority', 'cls', 'obj_uuid', 'timestamp', 'body'],
	task: ['uuid', 'name_label', 'name_description', 'status', 'progress', 'result', 'error_info', 'created', 'finished', 'resident_on', 'allowed_operations', 'other_config']
};
