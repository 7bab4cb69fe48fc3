import { startSimulatedPool, type RunningSimulatedPool } from '$lib/xapi/sim';
import { pools } from './config';
import { log } from './log';

let running: Promise<RunningSimulatedPool | null> | undefined;

/**
 * Which scenario the embedded simulated pool runs: `HAVEN_EMBEDDED_SIM` names it (`none` turns
 * it off); with no real pools configured it defaults to `small`, so Haven always has a pool.
 */
export function embeddedScenario(): string | null {
	const wanted = process.env['HAVEN_EMBEDDED_SIM']?.trim();
	if (wanted === 'none' || wanted === 'off') return null;
	if (wanted) return wanted;
	return process.env['HAVEN_POOLS']?.trim() ? null : 'small';
}

/** Starts the embedded pool once per server process; later calls share the first start. */
export function ensureEmbeddedPool(): Promise<RunningSimulatedPool | null> {
	running ??= (async () => {
		const scenario = embeddedScenario();
		if (!scenario) return null;
		const port = Number(process.env['HAVEN_SIM_PORT'] ?? 0);
		const speed = Number(process.env['HAVEN_SIM_SPEED'] ?? 1);
		const sim = await startSimulatedPool({ scenario, port, speed });
		const name = sim.pool.snapshot.pool[sim.pool.poolRef]?.name_label ?? scenario;
		pools.addEmbedded(sim.address, name);
		log.info({ scenario, address: sim.address }, 'embedded simulated pool started');
		return sim;
	})();
	return running;
}
