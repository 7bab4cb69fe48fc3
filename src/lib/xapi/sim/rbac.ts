/**
 * XAPI's role-based access control, reduced to what the simulator needs: roles are nested
 * (each holds every permission of the weaker ones), so a method names the weakest role allowed,
 * as the datamodel's `~allowed_roles:_R_POOL_OP` (pool-operator and above) does.
 */
import { ROLES, type Role } from './scenario-builder';

export function roleAtLeast(role: Role, min: Role): boolean {
	return ROLES.indexOf(role) <= ROLES.indexOf(min);
}

/** The roles holding a permission whose weakest holder is `min`, strongest first. */
export function rolesAllowed(min: Role): Role[] {
	return ROLES.filter((r) => roleAtLeast(r, min));
}
