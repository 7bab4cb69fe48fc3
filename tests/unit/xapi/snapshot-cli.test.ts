import { execFile, execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

	it('dumps only the classes asked for, given any member of the pool', async () => {
		const member = `${sim.pool.hostAddresses[1]}:${sim.port}`;
		const run = await snapshotCli(['--url', member, '--user', 'root', '--classes', 'pool,host'], { HAVEN_PASSWORD: PASSWORD });
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

describe('npm run snapshot over HTTPS with a self-signed certificate', () => {
	let dir: string;
	let server: Server;
	let url: string;
	let fingerprint: string;

	beforeAll(async () => {
		// What a XenServer host presents out of the box: a self-signed certificate.
		dir = mkdtempSync(join(tmpdir(), 'haven-snapshot-tls-'));
		execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=xcp-host-1',
			'-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
		const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
		fingerprint = new X509Certificate(cert).fingerprint256;
		server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				fetch(new URL(req.url ?? '/', sim.url), { method: 'POST', headers: { 'content-type': req.headers['content-type'] ?? '' }, body: Buffer.concat(chunks) })
					.then(async (answer) => res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' }).end(await answer.text()))
					.catch(() => res.destroy());
			});
		});
		await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
		url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(async () => {
		server?.closeAllConnections();
		await new Promise((done) => server?.close(done));
		if (dir) rmSync(dir, { recursive: true, force: true });
	});

	it('refuses the untrusted certificate and shows the fingerprint to check', async () => {
		const run = await snapshotCli(['--url', url, '--user', 'root', '--classes', 'pool'], { HAVEN_PASSWORD: PASSWORD, HAVEN_POOL_CA: undefined });
		expect(run.code).toBe(1);
		expect(run.stdout).toBe('');
		expect(run.stderr, run.stderr).toMatch(/is not trusted/);
		expect(run.stderr).toContain(`--fingerprint ${fingerprint}`);
	});

	it('dumps the pool once the fingerprint is given', async () => {
		const run = await snapshotCli(['--url', url, '--user', 'root', '--classes', 'pool', '--fingerprint', fingerprint.toLowerCase().replaceAll(':', '')], {
			HAVEN_PASSWORD: PASSWORD
		});
		expect(run.stderr).toBe('');
		expect(run.code).toBe(0);
		expect(Object.keys((JSON.parse(run.stdout) as { pool: object }).pool)).toHaveLength(1);
	});

	it('refuses a certificate whose fingerprint differs from the one given', async () => {
		const other = fingerprint.replace(/^../, fingerprint.startsWith('00') ? '11' : '00');
		const run = await snapshotCli(['--url', url, '--user', 'root', '--fingerprint', other], { HAVEN_PASSWORD: PASSWORD });
		expect(run.code).toBe(1);
		expect(run.stderr).toMatch(/not the one given with --fingerprint/);
	});

	it('exits 2 on a malformed fingerprint', async () => {
		const run = await snapshotCli(['--url', url, '--user', 'root', '--fingerprint', 'abc'], { HAVEN_PASSWORD: PASSWORD });
		expect(run.code).toBe(2);
		expect(run.stderr).toMatch(/not a SHA-256 fingerprint/);
	});
});
