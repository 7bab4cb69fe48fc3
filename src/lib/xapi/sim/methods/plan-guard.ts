/**
 * xapi's assert_configuration_change_preserves_ha_plan: an operation is blocked only if HA is
 * on, overcommit is not allowed, a plan exists now for ha_plan_exists_for failures, and would
 * not exist after the change. The change is applied to a copy of the pool and the planner asked.
 */
import { XapiCode } from '../../codes';
import { XapiError } from '../../errors';
import type { Snapshot } from '../../records';
import { planExistsFor } from '../planning';
import type { SimulatedPool } from '../pool';

export function assertChangePreservesPlan(pool: SimulatedPool, change: (copy: Snapshot) => void, numFailures?: number): void {
	const record = pool.poolRecord;
	if (!record.ha_enabled || record.ha_allow_overcommit) return;
	const now = record.ha_plan_exists_for;
	if (!planExistsFor(pool.snapshot, now)) return; // no plan now: the change cannot make it worse
	const copy = structuredClone(pool.snapshot);
	change(copy);
	if (!planExistsFor(copy, numFailures ?? now)) throw new XapiError(XapiCode.HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN, []);
}
