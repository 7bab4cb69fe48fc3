import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSnapshot } from '../../../src/lib/planner/parse';
import { XapiClient } from '../../../src/lib/xapi/client';
import { XAPI_CLASSES } from '../../../src/lib/xapi/records';
import { startSimHttpServer } from '../../../src/lib/xapi/sim/http';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim/index';
import { SimulatedPool } from '../../../src/lib/xapi/sim/pool';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const PASSWORD = 'snapshot-test-secret';
let sim: RunningSimulatedPool;

beforeAll(async () => {
	sim = await startSimulatedPool({ port: 0, password: PASSWORD, authFailureDelayMs: 10 });
});
afterAll(async () => {
	await sim?.stop();
});

interface Run {
	code: number;
	stdout: string;
	stderr: string;
}

/** Runs `npm run snapshot -- ...args` the way package.json does, stdin not a terminal. */
function snapshotCli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
	const childEnv: Record<string, string> = {};
	for (const [k, v] of Object.entries({ ...process.env, ...env })) if (v !== undefined) childEnv[k] = v;
	return new Promise((done) => {
		const child = execFile(TSX, ['scripts/snapshot.ts', ...args], { cwd: ROOT, env: childEnv, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
			done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
		});
		child.stdin?.end();
	});
}

async function readPool(address: string): Promise<Record<string, unknown>> {
	const client = new XapiClient({ address });
	await client.login('root', PASSWORD);
	const out: Record<string, unknown> = {};
	for (const cls of XAPI_CLASSES) out[cls] = await client.getAllRecords(cls);
	await client.logout();
	return out;
}

describe('npm run snapshot', () => {
	it('dumps every class, keyed by class then OpaqueRef, exactly as the pool serves it, and round-trips', async () => {
		const run = await snapshotCli(['--url', sim.address, '--user', 'root'], { HAVEN_PASSWORD: PASSWORD });
		expect(run.stderr).toBe('');
		expect(run.code).toBe(0);
		const dumped = JSON.parse(run.stdout) as Record<string, Record<string, { uuid?: unknown }>>;
		expect(Object.keys(dumped).sort()).toEqual([...XAPI_CLASSES].sort());
		for (const cls of XAPI_CLASSES) {
			for (const [ref, record] of Object.entries(dumped[cls] ?? {})) {
				expect(ref).toMatch(/^OpaqueRef:/);
				expect(typeof record.uuid).toBe('string');
			}
		}
		expect(Object.keys(dumped['host'] ?? {}).length).toBe(sim.pool.hostAddresses.length);
		expect(dumped).toEqual(await readPool(sim.address));

		// A pool built from the dump serves the same records again.
		const copy = new SimulatedPool(
			{ name: 'dumped', description: 'round trip', snapshot: dumped as never, users: [{ name: 'root', role: 'pool-admin' }] },
			{ password: PASSWORD, authFailureDelayMs: 10 }
		);
		const server = await startSimHttpServer(copy, 0);
		try {
			const again = await readPool(new URL(server.url).host);
			for (const cls of ['pool', 'host', 'host_metrics', 'VM', 'SR', 'PBD', 'VDI', 'VBD', 'VIF', 'network', 'PIF'] as const) {
				expect(again[cls], cls).toEqual(dumped[cls]);
			}
		} finally {
			copy.stop();
			await server.close();
		}
		// And it is what the planner reads.
		const parsed = parseSnapshot(dumped);
		expect(parsed.ok ? [] : parsed.issues).toEqual([]);
	});

	it('dumps only the classes asked for', async () => {
		const run = await snapshotCli(['--url', sim.address, '--user', 'root', '--classes', 'pool,host'], { HAVEN_PASSWORD: PASSWORD });
		expect(run.code).toBe(0);
		expect(Object.keys(JSON.parse(run.stdout) as object).sort()).toEqual(['host', 'pool']);
	});

	it('exits 2 naming the missing flag', async () => {
		const run = await snapshotCli(['--user', 'root'], { HAVEN_PASSWORD: PASSWORD });
		expect(run.code).toBe(2);
		expect(run.stdout).toBe('');
		expect(run.stderr).toMatch(/--url is required/);
	});

	it('exits 2 on a password flag, pointing at HAVEN_PASSWORD', async () => {
		const run = await snapshotCli(['--url', sim.address, '--user', 'root', '--password', PASSWORD], { HAVEN_PASSWORD: PASSWORD });
		expect(run.code).toBe(2);
		expect(run.stderr).toMatch(/HAVEN_PASSWORD/);
		expect(run.stderr).not.toContain(PASSWORD);
	});

	it('exits 2 on an unknown class', async () => {
		const run = await snapshotCli(['--url', sim.address, '--user', 'root', '--classes', 'pool,vms'], { HAVEN_PASSWORD: PASSWORD });
		expect(run.code).toBe(2);
		expect(run.stderr).toMatch(/unknown class "vms"/);
	});

	it('exits 2 without a password when there is no terminal to prompt on', async () => {
		const run = await snapshotCli(['--url', sim.address, '--user', 'root'], { HAVEN_PASSWORD: undefined });
		expect(run.code).toBe(2);
		expect(run.stderr).toMatch(/no password: set HAVEN_PASSWORD/);
	});

	it('exits 1 with the XAPI code when the pool refuses the login', async () => {
		const run = await snapshotCli(['--url', sim.address, '--user', 'root'], { HAVEN_PASSWORD: 'not-it' });
		expect(run.code).toBe(1);
		expect(run.stdout).toBe('');
		expect(run.stderr).toMatch(/SESSION_AUTHENTICATION_FAILED/);
		expect(run.stderr).not.toContain('not-it');
	});
});
