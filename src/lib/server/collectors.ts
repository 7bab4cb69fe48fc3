import { XapiClient } from '$lib/xapi/client';
import { appHistory } from './app-history';
import { pools, type PoolTarget } from './config';
import { startCollector, type Collector } from './history';
import { log } from './log';
import { transportFor } from './sessions';

/**
 * One history collector per configured pool, running whether or not anyone has Haven open.
 * It logs in with its own (ideally read-only) account: `HAVEN_COLLECTOR_USER` and
 * `HAVEN_COLLECTOR_PASSWORD`, or per pool `HAVEN_COLLECTOR_<ID>_USER` / `_PASSWORD` (id upper-cased,
 * dashes as underscores). The embedded simulated pool uses its read-only demo user.
 */
export interface CollectorCredentials {
	user: string;
	password: string;
}

export function collectorCredentials(pool: PoolTarget, embeddedPassword?: string, env: Record<string, string | undefined> = process.env): CollectorCredentials | null {
	const key = pool.id.toUpperCase().replace(/[^A-Z0-9]/g, '_');
	const user = env[`HAVEN_COLLECTOR_${key}_USER`] ?? env['HAVEN_COLLECTOR_USER'];
	const password = env[`HAVEN_COLLECTOR_${key}_PASSWORD`] ?? env['HAVEN_COLLECTOR_PASSWORD'];
	if (user && password) return { user, password };
	if (pool.embedded && embeddedPassword) return { user: 'helpdesk', password: embeddedPassword };
	return null;
}

const running = new Map<string, Collector>();

/** The embedded pool, when there is one: its password and its (possibly fast) clock. */
export interface EmbeddedPoolAccess {
	password: string;
	now: () => number;
}

export async function startCollectors(embedded?: EmbeddedPoolAccess): Promise<void> {
	if (process.env['HAVEN_COLLECTORS'] === 'off') return;
	const { db, instance } = await appHistory();
	for (const pool of pools.list()) {
		if (running.has(pool.id)) continue;
		const credentials = collectorCredentials(pool, embedded?.password);
		if (!credentials) {
			log.warn({ pool: pool.id }, 'no collector credentials for this pool: its history is not recorded (set HAVEN_COLLECTOR_USER / _PASSWORD)');
			continue;
		}
		const collector = startCollector({
			db,
			poolId: pool.id,
			owner: instance.id,
			connect: async () => {
				const client = new XapiClient({ address: pool.address, originator: 'haven-collector', transport: transportFor(), credentials: () => credentials });
				await client.login();
				return client;
			},
			// The simulated pool may run its clock fast: observations must share its time line.
			...(pool.embedded && embedded ? { clock: embedded.now } : {}),
			onError: (e) => log.warn({ pool: pool.id, err: e instanceof Error ? e.message : String(e) }, 'collector error'),
			onLeadership: (leading) => log.info({ pool: pool.id, leading }, leading ? 'collecting pool history' : 'another instance collects this pool')
		});
		running.set(pool.id, collector);
	}
}

export async function stopCollectors(): Promise<void> {
	await Promise.all([...running.values()].map((c) => c.stop()));
	running.clear();
}
