import type { SimulatedPool } from '../pool';
import { registerHaMethods } from './ha';
import { registerReaders } from './readers';
import { registerPlumbing } from './session-event-task';
import { registerVmHostMethods } from './vm-host';

/** Fills the pool's method table: readers first, so a specific method may not shadow one by accident. */
export function registerAllMethods(pool: SimulatedPool): void {
	registerReaders(pool);
	registerPlumbing(pool);
	registerHaMethods(pool);
	registerVmHostMethods(pool);
}
