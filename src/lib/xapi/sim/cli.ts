/**
 * `npm run sim -- --scenario small --port 8080`: the simulated pool alone, for trying XAPI
 * clients against it. Flags are a stable interface: extend, never rename. See docs/simulator.md.
 */
import { parseArgs } from 'node:util';
import { resolveHost } from './control';
import { startSimulatedPool } from './index';
import { scenarioNames } from './scenarios';

const USAGE = `usage: npm run sim -- [options]
  --scenario NAME        ${scenarioNames().join(' | ')} (default small)
  --port N               XAPI port on every host address 127.0.0.N (default 0: any free port)
  --control-port N       always-on control listener on 127.0.0.1 (default 0: any free port)
  --speed X              simulated seconds per real second (default 1)
  --auth-delay-ms N      delay before SESSION_AUTHENTICATION_FAILED (default 500; real pools: 5000)
  --fail-host NAME       power off this host (repeatable) ...
  --isolate-host NAME    cut this host's network (repeatable) ...
  --fail-master          power off the master ...
  --break-statefile      lose the heartbeat SR ...
  --after S              ... this many simulated seconds after start (default 0)`;

function fail(message: string): never {
	console.error(`sim: ${message}`);
	process.exit(2);
}

function numberFlag(name: string, raw: string | undefined, fallback: number, check: (n: number) => boolean): number {
	if (raw === undefined) return fallback;
	const n = Number(raw);
	if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) fail(`--${name}: bad value "${raw}"`);
	return n;
}

function main(): void {
	let values: {
		scenario?: string;
		port?: string;
		'control-port'?: string;
		speed?: string;
		'auth-delay-ms'?: string;
		'fail-host'?: string[];
		'isolate-host'?: string[];
		'fail-master'?: boolean;
		'break-statefile'?: boolean;
		after?: string;
		help?: boolean;
	};
	try {
		({ values } = parseArgs({
			options: {
				scenario: { type: 'string', default: 'small' },
				port: { type: 'string', default: '0' },
				'control-port': { type: 'string' },
				speed: { type: 'string' },
				'auth-delay-ms': { type: 'string' },
				'fail-host': { type: 'string', multiple: true },
				'isolate-host': { type: 'string', multiple: true },
				'fail-master': { type: 'boolean' },
				'break-statefile': { type: 'boolean' },
				after: { type: 'string' },
				help: { type: 'boolean', short: 'h' }
			}
		}));
	} catch (e) {
		fail(e instanceof Error ? e.message : String(e));
	}
	if (values.help) {
		console.log(USAGE);
		return;
	}
	const port = numberFlag('port', values.port, 0, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
	const controlPort = numberFlag('control-port', values['control-port'], 0, (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
	const speed = numberFlag('speed', values.speed, 1, (n) => n > 0 && n <= 1_000_000);
	const authFailureDelayMs = numberFlag('auth-delay-ms', values['auth-delay-ms'], 500, (n) => Number.isInteger(n) && n >= 0 && n <= 60_000);
	const after = numberFlag('after', values.after, 0, (n) => n >= 0);
	const scenario = values.scenario ?? 'small';
	if (!scenarioNames().includes(scenario)) fail(`unknown scenario "${scenario}"; known: ${scenarioNames().join(', ')}`);
	const fromEnv = process.env['HAVEN_SIM_PASSWORD'];
	startSimulatedPool({ scenario, port, controlPort, speed, authFailureDelayMs })
		.then((sim) => {
			const { pool } = sim;
			// Resolve names now, so a typo fails at start rather than minutes into a demo.
			let faults: (() => void)[];
			try {
				faults = [
					...(values['fail-host'] ?? []).map((name) => {
						const host = resolveHost(pool, name);
						return () => pool.runtime.failHost(host);
					}),
					...(values['isolate-host'] ?? []).map((name) => {
						const host = resolveHost(pool, name);
						return () => pool.runtime.isolateHost(host);
					}),
					...(values['fail-master'] ? [() => void pool.runtime.failMaster()] : []),
					...(values['break-statefile'] ? [() => pool.runtime.breakStatefile()] : [])
				];
			} catch (e) {
				void sim.stop();
				fail(e instanceof Error ? e.message : String(e));
			}
			if (faults.length > 0) pool.clock.after(after, () => faults.forEach((f) => f()));
			console.log(`Simulated pool "${scenario}" serving XAPI at ${sim.url}/jsonrpc (XML-RPC at ${sim.url}/)`);
			console.log(`Hosts: ${pool.hostAddresses.map((a) => `${a}:${sim.port}`).join(', ')}`);
			console.log(`Users: ${[...pool.users.values()].map((u) => `${u.name} (${u.role})`).join(', ')}`);
			console.log(fromEnv ? 'Password: from HAVEN_SIM_PASSWORD' : `Password: ${sim.password}`);
			console.log(`Control: ${sim.controlUrl}/control/state (speed ${speed}x)`);
			if (faults.length > 0) console.log(`Faults scheduled at +${after} simulated seconds`);
			const stop = () => void sim.stop().then(() => process.exit(0));
			process.on('SIGINT', stop);
			process.on('SIGTERM', stop);
		})
		.catch((e: unknown) => {
			console.error(`sim: ${e instanceof Error ? e.message : String(e)}`);
			process.exit(1);
		});
}

main();
