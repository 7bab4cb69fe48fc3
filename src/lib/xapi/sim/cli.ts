/**
 * `npm run sim -- --scenario small --port 8080`: the simulated pool alone, for trying XAPI
 * clients against it. Flags are a stable interface: extend, never rename.
 */
import { parseArgs } from 'node:util';
import { startSimulatedPool } from './index';
import { scenarioNames } from './scenarios';

function main(): void {
	let values: { scenario?: string; port?: string; help?: boolean };
	try {
		({ values } = parseArgs({
			options: {
				scenario: { type: 'string', default: 'small' },
				port: { type: 'string', default: '0' },
				help: { type: 'boolean', short: 'h' }
			}
		}));
	} catch (e) {
		console.error(`sim: ${e instanceof Error ? e.message : String(e)}`);
		process.exit(2);
	}
	if (values.help) {
		console.log(`usage: npm run sim -- [--scenario ${scenarioNames().join('|')}] [--port N]`);
		return;
	}
	const port = Number(values.port);
	if (!Number.isInteger(port) || port < 0 || port > 65535) {
		console.error(`sim: --port must be an integer from 0 to 65535, got "${values.port}"`);
		process.exit(2);
	}
	const scenario = values.scenario ?? 'small';
	if (!scenarioNames().includes(scenario)) {
		console.error(`sim: unknown scenario "${scenario}"; known: ${scenarioNames().join(', ')}`);
		process.exit(2);
	}
	const fromEnv = process.env['HAVEN_SIM_PASSWORD'];
	startSimulatedPool({ scenario, port })
		.then((sim) => {
			console.log(`Simulated pool "${scenario}" serving XAPI at ${sim.url}/jsonrpc`);
			console.log(`Hosts: ${sim.pool.hostAddresses.map((a) => `${a}:${sim.port}`).join(', ')}`);
			console.log(`Users: ${[...sim.pool.users.values()].map((u) => `${u.name} (${u.role})`).join(', ')}`);
			console.log(fromEnv ? 'Password: from HAVEN_SIM_PASSWORD' : `Password: ${sim.password}`);
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
