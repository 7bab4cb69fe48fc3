import type { OverviewClasses } from '$lib/pool/overview';
import type { XapiClient } from '$lib/xapi/client';

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
