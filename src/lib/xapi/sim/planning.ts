/**
 * The one place the simulator asks Haven's planner (src/lib/planner) the toolstack's planning
 * questions, so the pool and Haven can never disagree by accident: there is a single
 * implementation of xapi_ha_vm_failover.ml's rules, and this file only adapts its answers.
 */
export {
	toolstackMaxFailuresToTolerate,
	toolstackFailoverPlan,
	planExistsFor,
	vmAgility
} from '../../planner';
