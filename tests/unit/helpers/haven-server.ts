import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim';

export const ROOT = join(import.meta.dirname, '..', '..', '..');

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

export interface RunningHaven {
	url: string;
	child: ChildProcess;
	output: () => string;
	stop(): Promise<void>;
}

/**
 * Runs the built Haven server (build/index.js, made by `npm test` before vitest) as a real
 * process, so tests see exactly what a browser would.
 */
export async function startHaven(env: Record<string, string>): Promise<RunningHaven> {
	const entry = join(ROOT, 'build', 'index.js');
	if (!existsSync(entry)) throw new Error('build/index.js is missing: run `npx vite build` (npm test does it first)');
	const port = await freePort();
	const url = `http://127.0.0.1:${port}`;
	let output = '';
	const child = spawn(process.execPath, [entry], {
		cwd: ROOT,
		env: {
			...process.env,
			PORT: String(port),
			HOST: '127.0.0.1',
			ORIGIN: url,
			HAVEN_LOG_LEVEL: 'info',
			HAVEN_DATA_DIR: mkdtempSync(join(tmpdir(), 'haven-it-')),
			DATABASE_URL: '',
			...env
		},
		stdio: ['ignore', 'pipe', 'pipe']
	});
	child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
	child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
	const readyBy = Date.now() + 30_000;
	for (;;) {
		if (child.exitCode !== null) throw new Error(`Haven exited early:\n${output}`);
		try {
			await fetch(`${url}/login`, { redirect: 'manual' });
			break;
		} catch {
			if (Date.now() > readyBy) {
				child.kill('SIGKILL');
				throw new Error(`Haven did not answer at ${url} within 30 s:\n${output}`);
			}
			await new Promise((r) => setTimeout(r, 50));
		}
	}
	return {
		url,
		child,
		output: () => output,
		stop: () =>
			new Promise<void>((resolve) => {
				if (child.exitCode !== null) return resolve();
				child.once('exit', () => resolve());
				child.kill('SIGTERM');
			})
	};
}

/** Posts a form the way a browser on Haven's own page would (same Origin). */
export function postForm(base: string, path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
	return fetch(`${base}${path}`, {
		method: 'POST',
		redirect: 'manual',
		headers: { origin: base, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded', ...headers },
		body: new URLSearchParams(fields).toString()
	});
}

export function sessionCookie(response: Response): string | undefined {
	return response.headers.getSetCookie().find((c) => c.startsWith('haven_session='));
}

/** The session cookie as a request's `cookie` header (name=value), or '' when none was set. */
export function cookieHeader(response: Response): string {
	return sessionCookie(response)?.split(';')[0] ?? '';
}

export interface PoolAndHaven {
	sim: RunningSimulatedPool;
	haven: RunningHaven;
	stop(): Promise<void>;
}

/** The usual pair: a simulated `small` pool and a built Haven configured for it alone. */
export async function startPoolAndHaven(password: string, env: Record<string, string> = {}): Promise<PoolAndHaven> {
	const sim = await startSimulatedPool({ scenario: 'small', port: 0, password, authFailureDelayMs: 10 });
	const haven = await startHaven({ HAVEN_POOLS: `test=${sim.address}`, HAVEN_EMBEDDED_SIM: 'none', ...env });
	return {
		sim,
		haven,
		stop: async () => {
			await haven.stop();
			await sim.stop();
		}
	};
}

/**
 * The usual pair for a whole test file: started before its tests, stopped after them. `sim` and
 * `haven` are read once the pair is up.
 */
export function usePoolAndHaven(password: string, env: Record<string, string> = {}): Omit<PoolAndHaven, 'stop'> {
	let running: PoolAndHaven | undefined;
	beforeAll(async () => {
		running = await startPoolAndHaven(password, env);
	});
	afterAll(async () => {
		await running?.stop();
	});
	const up = (): PoolAndHaven => {
		if (!running) throw new Error('the pool and Haven are not started yet (use them inside tests or hooks)');
		return running;
	};
	return {
		get sim() {
			return up().sim;
		},
		get haven() {
			return up().haven;
		}
	};
}

/** Logs in through Haven's login form on the pair's pool; the `cookie` header for later requests. */
export async function loginCookie(pair: Omit<PoolAndHaven, 'stop'>, user: string, password: string): Promise<string> {
	return cookieHeader(await postForm(pair.haven.url, '/login', { pool: pair.sim.address, user, password }));
}
