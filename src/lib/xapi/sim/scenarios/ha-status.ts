import type { Snapshot } from '../../records';
import { toolstackMaxFailuresToTolerate } from '../planning';

/**
 * Fills ha_plan_exists_for and ha_overcommitted in a scenario with HA on, from the planner,
 * as xapi's update_pool_status would have left them: the pool and its own answers agree.
 */
export function settleHaStatus(snapshot: Snapshot): void {
	for (const pool of Object.values(snapshot.pool)) {
		if (!pool.ha_enabled) continue;
		const max = toolstackMaxFailuresToTolerate(snapshot);
		pool.ha_plan_exists_for = Math.min(pool.ha_host_failures_to_tolerate, max);
		pool.ha_overcommitted = max < pool.ha_host_failures_to_tolerate;
	}
}
