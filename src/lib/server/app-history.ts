import { createAuditLog, migrate, openDbFromEnv, startInstance, type AuditLog, type Db, type HavenInstance } from './history';
import { log } from './log';

export interface AppHistory {
	db: Db;
	instance: HavenInstance;
	audit: AuditLog;
}

let opening: Promise<AppHistory> | undefined;

/**
 * The server's history database (PGlite in a data folder, or DATABASE_URL), migrated, with this
 * process registered as an instance so its interrupted changes can be told apart. Opened once.
 */
export function appHistory(): Promise<AppHistory> {
	opening ??= (async () => {
		const db = await openDbFromEnv();
		await migrate(db);
		const instance = await startInstance({
			db,
			onError: (e) => log.error({ err: e instanceof Error ? e.message : String(e) }, 'history heartbeat failed')
		});
		log.info({ instance: instance.id, backend: process.env['DATABASE_URL'] ? 'postgresql' : 'pglite' }, 'history database ready');
		return { db, instance, audit: createAuditLog(db, instance.id) };
	})();
	return opening;
}
