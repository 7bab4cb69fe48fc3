import type { RunningSimulatedPool } from '$lib/xapi/sim';
import { appHistory } from './app-history';
import { stopCollectors } from './collectors';
import { endAllLiveFeeds } from './live';
import { log } from './log';
import { closeAllSessions } from './sessions';

const CLEANUP_DEADLINE_MS = 10_000;

/**
 * A clean stop on SIGTERM / SIGINT. Live streams never end by themselves, so they are closed
 * first, letting adapter-node's server close; then pool sessions are logged out, collectors
 * stopped, this instance marked stopped (so nothing of its is later taken for interrupted), the
 * database closed, and the process exits: timers and long polls would otherwise keep it alive.
 */
export function installShutdown(embedded: RunningSimulatedPool | null): void {
	const endStreams = () => endAllLiveFeeds('shutdown');
	process.once('SIGTERM', endStreams);
	process.once('SIGINT', endStreams);
	process.once('sveltekit:shutdown', (reason: unknown) => {
		setTimeout(() => {
			log.error('shutdown cleanup took too long; exiting anyway');
			process.exit(1);
		}, CLEANUP_DEADLINE_MS).unref();
		void (async () => {
			try {
				await closeAllSessions();
				await stopCollectors();
				const history = await appHistory();
				await history.instance.stop();
				await history.db.close();
				await embedded?.stop();
				log.info({ reason: String(reason) }, 'Haven stopped');
				process.exit(0);
			} catch (e) {
				log.error({ err: e instanceof Error ? e.message : String(e) }, 'shutdown cleanup failed');
				process.exit(1);
			}
		})();
	});
}
