/**
 * `npm run bench:load -- [--sessions 200] [--seconds 60] [--readers 8]`: drives a built Haven
 * on loopback with many signed-in sessions holding live updates (SSE) plus a steady stream of
 * API reads, while the simulated pool fails and recovers a host now and then. Bounded in count
 * and time; stops by itself. `npm run bench:soak` runs it longer.
 *
 * Prints requests served, errors, p50/p99 per kind of read (and as a ratio of a static-file
 * baseline measured in the same run), live events delivered, and server memory over time.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ROOT, postForm, sessionCookie, startHaven } from '../tests/unit/helpers/haven-server';
// @ts-expect-error plain ESM helper shared with npm start / npm test
import { ensureBuild } from '../scripts/lib/ensure.mjs';

const { values } = parseArgs({
	options: {
		sessions: { type: 'string', default: '200' },
		seconds: { type: 'string', default: '60' },
		readers: { type: 'string', default: '8' }
	}
});
const SESSIONS = Math.min(2000, Math.max(1, Number(values.sessions)));
const SECONDS = Math.min(3600, Math.max(5, Number(values.seconds)));
const READERS = Math.min(64, Math.max(1, Number(values.readers)));
const PASSWORD = 'load-bench-password';

function rssMiB(pid: number): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
	return kb / 1024;
}

function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return NaN;
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function main(): Promise<void> {
	(ensureBuild as () => void)();
	// The pool runs in a process of its own, so its work is neither Haven's nor the load's.
	const simProcess = spawn(process.execPath, ['--import', 'tsx', 'src/lib/xapi/sim/cli.ts', '--scenario', 'small', '--port', '0', '--speed', '60', '--auth-delay-ms', '10'], {
		cwd: ROOT,
		env: { ...process.env, HAVEN_SIM_PASSWORD: PASSWORD },
		stdio: ['ignore', 'pipe', 'inherit']
	});
	const simUrl = await new Promise<string>((resolve, reject) => {
		let out = '';
		simProcess.stdout?.on('data', (d: Buffer) => {
			out += d.toString();
			const found = /serving XAPI at (http:\/\/[\d.]+:\d+)\//.exec(out);
			if (found?.[1]) resolve(found[1]);
		});
		simProcess.once('exit', (code) => reject(new Error(`the simulated pool exited (${code}): ${out}`)));
	});
	const sim = {
		address: new URL(simUrl).host,
		stop: () => new Promise<void>((resolve) => {
			simProcess.once('exit', () => resolve());
			simProcess.kill('SIGTERM');
		})
	};
	const haven = await startHaven({
		HAVEN_POOLS: `load=${sim.address}`,
		HAVEN_EMBEDDED_SIM: 'none',
		HAVEN_LOGIN_MAX_PER_ADDRESS: '1000000',
		HAVEN_LOG_LEVEL: 'warn',
		NODE_ENV: 'production'
	});
	const pid = haven.child.pid ?? 0;
	console.log(`Haven ${haven.url} (pid ${pid}), pool ${sim.address}: ${SESSIONS} sessions, ${READERS} readers, ${SECONDS} s`);

	const errors: string[] = [];
	const cookies: string[] = [];
	const users = ['admin', 'operator', 'helpdesk'];
	for (let i = 0; i < SESSIONS; i += 20) {
		const batch = await Promise.all(
			Array.from({ length: Math.min(20, SESSIONS - i) }, (_, j) => postForm(haven.url, '/login', { pool: sim.address, user: users[(i + j) % 3] ?? 'helpdesk', password: PASSWORD }))
		);
		for (const res of batch) {
			const cookie = sessionCookie(res)?.split(';')[0];
			if (res.status !== 303 || !cookie) errors.push(`login HTTP ${res.status}`);
			else cookies.push(cookie);
		}
	}

	console.log(`signed in: ${cookies.length} sessions`);
	const stop = new AbortController();
	let liveEvents = 0;
	let streamsOpen = 0;
	const streams = cookies.map(async (cookie) => {
		try {
			const res = await fetch(`${haven.url}/api/events`, { headers: { cookie }, signal: stop.signal });
			if (res.status !== 200 || !res.body) {
				errors.push(`events HTTP ${res.status}`);
				return;
			}
			streamsOpen += 1;
			const decoder = new TextDecoder();
			for await (const chunk of res.body) liveEvents += (decoder.decode(chunk as Uint8Array).match(/^event: /gm) ?? []).length;
			if (!stop.signal.aborted) errors.push('event stream closed by the server');
		} catch (e) {
			if (!stop.signal.aborted) errors.push(`events: ${e instanceof Error ? e.message : String(e)}`);
		} finally {
			streamsOpen -= 1;
		}
	});

	const latencies: Record<string, number[]> = { baseline: [], snapshot: [], page: [] };
	const targets: [keyof typeof latencies, string][] = [
		['baseline', '/favicon.svg'],
		['snapshot', '/api/pool/snapshot'],
		['page', '/pool']
	];
	let served = 0;
	const deadline = Date.now() + SECONDS * 1000;
	const readers = Array.from({ length: READERS }, async (_, r) => {
		let i = r;
		while (Date.now() < deadline) {
			const [kind, path] = targets[i++ % targets.length] ?? targets[0]!;
			const cookie = cookies[i % Math.max(1, cookies.length)] ?? '';
			const started = performance.now();
			try {
				const res = await fetch(`${haven.url}${path}`, { headers: { cookie }, redirect: 'manual' });
				await res.arrayBuffer();
				if (res.status !== 200) errors.push(`${path} HTTP ${res.status}`);
				else served += 1;
			} catch (e) {
				errors.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
			}
			latencies[kind]?.push(performance.now() - started);
		}
	});

	// Pool activity every 10 s, so every stream carries real updates.
	const memory: { t: number; rss: number }[] = [{ t: 0, rss: rssMiB(pid) }];
	const started = Date.now();
	let flip = false;
	const activity = setInterval(() => {
		flip = !flip;
		void fetch(`http://${sim.address}/control/hosts/xcp-host-3/${flip ? 'fail' : 'recover'}`, { method: 'POST' }).catch(() => undefined);
	}, 10_000);
	const sampler = setInterval(() => {
		memory.push({ t: (Date.now() - started) / 1000, rss: rssMiB(pid) });
		console.log(`  t=${((Date.now() - started) / 1000).toFixed(0)} s: served ${served}, errors ${errors.length}, streams open ${streamsOpen}, live events ${liveEvents}, RSS ${memory[memory.length - 1]?.rss.toFixed(0)} MiB`);
	}, 5_000);

	await Promise.all(readers);
	console.log('readers done; closing streams');
	clearInterval(activity);
	clearInterval(sampler);
	memory.push({ t: (Date.now() - started) / 1000, rss: rssMiB(pid) });
	const openAtEnd = streamsOpen;
	stop.abort();
	await Promise.allSettled(streams);
	console.log('streams closed; stopping Haven');
	await haven.stop();
	await sim.stop();

	const row = (kind: string, xs: number[]) => {
		const sorted = [...xs].sort((a, b) => a - b);
		return { kind, count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
	};
	const rows = Object.entries(latencies).map(([k, xs]) => row(k, xs));
	const base = rows.find((r) => r.kind === 'baseline');
	console.log('\nread            count    p50 ms   p99 ms   p99 / baseline p99');
	for (const r of rows) {
		console.log(`${r.kind.padEnd(14)} ${String(r.count).padStart(6)} ${r.p50.toFixed(1).padStart(9)} ${r.p99.toFixed(1).padStart(8)}   ${base ? (r.p99 / base.p99).toFixed(2) : '-'}x`);
	}
	const afterWarmup = memory.find((m) => m.t >= Math.min(15, SECONDS / 3)) ?? memory[0];
	const last = memory[memory.length - 1];
	console.log(`\nrequests served: ${served} (${(served / SECONDS).toFixed(0)}/s), sessions: ${cookies.length}, streams open at end: ${openAtEnd}, live events delivered: ${liveEvents}`);
	console.log(`errors: ${errors.length}${errors.length ? ` (first: ${[...new Set(errors)].slice(0, 5).join('; ')})` : ''}`);
	console.log(`server RSS MiB: start ${memory[0]?.rss.toFixed(0)}, after warm-up ${afterWarmup?.rss.toFixed(0)}, end ${last?.rss.toFixed(0)}; growth after warm-up ${afterWarmup && last ? (((last.rss - afterWarmup.rss) / afterWarmup.rss) * 100).toFixed(1) : '?'}%`);
	const worstReadP99 = Math.max(...rows.filter((r) => r.kind !== 'baseline').map((r) => r.p99));
	console.log(`targets: no errors ${errors.length === 0 ? 'MET' : 'MISSED'}; p99 reads < 200 ms ${worstReadP99 < 200 ? 'MET' : 'MISSED'} (${worstReadP99.toFixed(1)} ms)`);
	process.exit(0);
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
