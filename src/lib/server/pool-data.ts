import type { OverviewClasses } from '$lib/pool/overview';
import type { XapiClient } from '$lib/xapi/client';
import type { Snapshot, XapiClassName } from '$lib/xapi/records';

/** Fetches the records the pool view needs, all classes at once. */
export async function fetchOverviewClasses(client: XapiClient): Promise<OverviewClasses> {
	const [pool, host, host_metrics, VM, SR, PBD, VDI] = await Promise.all([
		client.getAllRecords('pool'),
		client.getAllRecords('host'),
		client.getAllRecords('host_metrics'),
		client.getAllRecords('VM'),
		client.getAllRecords('SR'),
		client.getAllRecords('PBD'),
		client.getAllRecords('VDI')
	]);
	return { pool, host, host_metrics, VM, SR, PBD, VDI };
}

/** The classes the planner reads (see src/lib/planner): a snapshot without tasks and messages. */
export const PLANNING_CLASSES: readonly XapiClassName[] = ['pool', 'host', 'host_metrics', 'VM', 'VM_metrics', 'SR', 'PBD', 'VDI', 'VBD', 'VIF', 'network', 'PIF'];

/** A snapshot of the live pool in the stable snapshot format, for the planner and exports. */
export async function fetchPlanningSnapshot(client: XapiClient): Promise<Partial<Snapshot>> {
	const entries = await Promise.all(PLANNING_CLASSES.map(async (cls) => [cls, await client.getAllRecords(cls)] as const));
	return Object.fromEntries(entries) as Partial<Snapshot>;
}
