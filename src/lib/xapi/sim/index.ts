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
}

export interface RunningSimulatedPool {
	pool: SimulatedPool;
	/** Master endpoint, e.g. http://127.0.0.1:41234 */
	url: string;
	/** What an admin types in the login form: host:port of the master. */
	address: string;
	port: number;
	password: string;
	stop(): Promise<void>;
}

export async function startSimulatedPool(options: StartSimOptions = {}): Promise<RunningSimulatedPool> {
	const password = options.password ?? process.env['HAVEN_SIM_PASSWORD'] ?? randomBytes(9).toString('base64url');
	const pool = new SimulatedPool(loadScenario(options.scenario ?? 'small'), { password, authFailureDelayMs: options.authFailureDelayMs });
	const server = await startSimHttpServer(pool, options.port ?? 0);
	return {
		pool,
		url: server.url,
		address: new URL(server.url).host,
		port: server.port,
		password,
		stop: () => server.close()
	};
}
