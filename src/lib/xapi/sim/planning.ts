/**
 * The one place the simulator asks Haven's planner (src/lib/planner) the toolstack's planning
 * questions, so the pool and Haven can never disagree by accident: there is a single
 * implementation of xapi_ha_vm_failover.ml's rules, and this file only adapts its answers.
 *
 * The planner treats a snapshot as immutable and caches its model per snapshot object; the
 * pool's database changes in place. Each question therefore gets a new top-level object over
 * the current records (a shallow copy: nothing is cloned), so no answer is ever stale.
 */
import * as planner from '../../planner';
import type { Ref, Snapshot } from '../records';

type WhatIf = Parameters<typeof planner.toolstackMaxFailuresToTolerate>[1];

function current(snapshot: Snapshot): Snapshot {
	return { ...snapshot };
}

export function toolstackMaxFailuresToTolerate(snapshot: Snapshot, whatIf?: WhatIf): number {
	return planner.toolstackMaxFailuresToTolerate(current(snapshot), whatIf);
}

export function planExistsFor(snapshot: Snapshot, n: number): boolean {
	return planner.planExistsFor(current(snapshot), n);
}

export function toolstackFailoverPlan(snapshot: Snapshot, failedHosts: Ref[], failedVms: Ref[]): Record<Ref, { host: Ref } | { error_code: string }> {
	return planner.toolstackFailoverPlan(current(snapshot), failedHosts, failedVms);
}

export function vmAgility(snapshot: Snapshot, vm: Ref): planner.Agility {
	return planner.vmAgility(current(snapshot), vm);
}
