import { randomBytes } from 'node:crypto';
import { startSimHttpServer } from './http';
import { SimulatedPool } from './pool';
import { loadScenario } from './scenarios';

export interface StartSimOptions {
	scenario?: string;
	port?: number;
	/** Defaults to `HAVEN_SIM_PASSWORD`, else a random one (see `password` on the result). */
	password?: string;
	authFailureDelayMs?: number;
	/** Simulated seconds per real second: 1 for the demo, 600+ in tests. */
	speed?: number;
	/** Port of the always-on control listener on 127.0.0.1 (0 = any free port). */
	controlPort?: number;
}

export interface RunningSimulatedPool {
	pool: SimulatedPool;
	/** Master endpoint at start, e.g. http://127.0.0.1:41234 */
	url: string;
	/** What an admin types in the login form: host:port of the master. */
	address: string;
	port: number;
	password: string;
	/** The control endpoint that stays up whatever happens to the hosts (see docs/simulator.md). */
	controlUrl: string;
	stop(): Promise<void>;
}

export async function startSimulatedPool(options: StartSimOptions = {}): Promise<RunningSimulatedPool> {
	const password = options.password ?? process.env['HAVEN_SIM_PASSWORD'] ?? randomBytes(9).toString('base64url');
	const pool = new SimulatedPool(loadScenario(options.scenario ?? 'small'), {
		password,
		authFailureDelayMs: options.authFailureDelayMs,
		speed: options.speed
	});
	const server = await startSimHttpServer(pool, options.port ?? 0, options.controlPort ?? 0);
	return {
		pool,
		url: server.url,
		address: new URL(server.url).host,
		port: server.port,
		password,
		controlUrl: server.controlUrl,
		stop: async () => {
			pool.stop();
			await server.close();
		}
	};
}

export { SimulatedPool } from './pool';
export { inProcessTransport } from './in-process';
export { SimClock } from './clock';
export type { HostCondition } from './ha-runtime';
