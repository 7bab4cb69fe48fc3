/** `npm run sim` as a process: flags are a stable interface, and bad ones fail fast and clearly. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const CLI = join(ROOT, 'src', 'lib', 'xapi', 'sim', 'cli.ts');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** Runs the CLI until it prints `until` (then stops it) or exits; returns output and exit code. */
function run(args: string[], until?: RegExp): Promise<{ out: string; code: number | null }> {
	return new Promise((resolve, reject) => {
		const child = spawn(TSX, [CLI, ...args], { cwd: ROOT, env: { ...process.env, HAVEN_SIM_PASSWORD: 'cli-test' } });
		let out = '';
		const onData = (chunk: Buffer) => {
			out += chunk.toString();
			if (until?.test(out)) child.kill('SIGTERM');
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`sim CLI did not finish: ${out}`));
		}, 20_000);
		child.on('exit', (code) => {
			clearTimeout(timer);
			resolve({ out, code });
		});
	});
}

describe('npm run sim', () => {
	it('starts a scenario and prints the endpoints, the control URL and where the password comes from', async () => {
		const { out } = await run(['--scenario', 'mixed-storage', '--port', '0', '--speed', '60', '--fail-host', 'mix-host-4', '--after', '30'], /Faults scheduled/);
		expect(out).toMatch(/Simulated pool "mixed-storage" serving XAPI at http:\/\/127\.0\.0\.1:\d+\/jsonrpc/);
		expect(out).toMatch(/Hosts: 127\.0\.0\.1:\d+, 127\.0\.0\.2:\d+, 127\.0\.0\.3:\d+, 127\.0\.0\.4:\d+/);
		expect(out).toContain('Password: from HAVEN_SIM_PASSWORD');
		expect(out).toMatch(/Control: http:\/\/127\.0\.0\.1:\d+\/control\/state \(speed 60x\)/);
		expect(out).toContain('Faults scheduled at +30 simulated seconds');
	});

	it('refuses unknown scenarios, hosts and bad numbers with exit code 2', async () => {
		const scenario = await run(['--scenario', 'huge']);
		expect(scenario.code).toBe(2);
		expect(scenario.out).toMatch(/unknown scenario "huge"; known: small, mixed-storage/);
		const speed = await run(['--speed', 'fast']);
		expect(speed.code).toBe(2);
		expect(speed.out).toContain('--speed: bad value "fast"');
		const host = await run(['--fail-host', 'xcp-host-9']);
		expect(host.code).toBe(2);
		expect(host.out).toMatch(/no host "xcp-host-9"/);
	});
});
