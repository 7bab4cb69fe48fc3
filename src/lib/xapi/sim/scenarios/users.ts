import type { SimUser } from '../scenario-builder';

/** One user per role, all sharing the simulator's password (see docs/simulator.md). */
export function standardUsers(): SimUser[] {
	return [
		{ name: 'root', role: 'pool-admin' },
		{ name: 'admin', role: 'pool-admin' },
		{ name: 'operator', role: 'pool-operator' },
		{ name: 'poweradmin', role: 'vm-power-admin' },
		{ name: 'vmadmin', role: 'vm-admin' },
		{ name: 'vmoperator', role: 'vm-operator' },
		{ name: 'helpdesk', role: 'read-only' }
	];
}
