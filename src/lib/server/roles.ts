import type { XapiClient } from '$lib/xapi/client';

/** The XAPI roles, strongest first; Haven shows the user's role and gates features by it. */
export type HavenRole = 'pool-admin' | 'pool-operator' | 'vm-operator' | 'read-only';

/** Permissions XAPI needs for the changes Haven makes; pool-operator and above hold them. */
const HA_PERMISSIONS = ['pool.enable_ha', 'pool.disable_ha', 'vm.set_ha_restart_priority', 'pool.set_ha_host_failures_to_tolerate'];

const POOL_ADMIN_MARKERS = ['pool.set_ha_allow_overcommit', 'subject.create'];

interface SessionRecordShape {
	is_local_superuser?: unknown;
	rbac_permissions?: unknown;
}

/**
 * Reads what the user may do from the pool itself (the session's RBAC permissions), never from
 * anything the browser sends.
 */
export async function roleFromPool(client: XapiClient): Promise<HavenRole> {
	const record = await client.call<SessionRecordShape>('session.get_record', client.sessionRef);
	if (record.is_local_superuser === true) return 'pool-admin';
	const permissions = new Set(Array.isArray(record.rbac_permissions) ? record.rbac_permissions.map((p) => String(p).toLowerCase()) : []);
	// Only pool-admin may write plain fields (the datamodel's default writer role) or manage subjects.
	if (HA_PERMISSIONS.every((p) => permissions.has(p)) && POOL_ADMIN_MARKERS.some((p) => permissions.has(p))) return 'pool-admin';
	if (HA_PERMISSIONS.every((p) => permissions.has(p))) return 'pool-operator';
	if (permissions.has('vm.start')) return 'vm-operator';
	return 'read-only';
}

/** Whether a role may change HA settings (enable, disable, priorities, tolerance). */
export function canConfigureHa(role: HavenRole): boolean {
	return role === 'pool-admin' || role === 'pool-operator';
}
