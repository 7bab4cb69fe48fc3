#!/usr/bin/env node
/**
 * Makes sure a throwaway PostgreSQL server is running for the history tests and prints its
 * URL (also written to .haven/test-pg-url, for a test runner that cannot read stdout).
 *
 * - Debian's `postgresql` package is installed with apt-get when no server binaries are found
 *   (only as root; CI runs as root on a clean machine).
 * - The cluster lives in a temp folder, listens on 127.0.0.1 only (port 54329 unless
 *   HAVEN_TEST_PG_PORT says otherwise), with trust auth and durability turned off: it holds
 *   nothing but test data, and speed matters more than surviving a power cut.
 * - Idempotent: a server already answering on the port is reused, so a second run is fast.
 *
 * `node scripts/ensure-postgres.mjs --stop` stops the cluster again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync, chownSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.env.HAVEN_TEST_PG_PORT ?? 54329);
const host = '127.0.0.1';
const database = 'haven_test';
const dataDir = join(tmpdir(), `haven-test-pg-${port}`);
const url = `postgres://postgres@${host}:${port}/${database}`;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function log(message) {
	console.error(`ensure-postgres: ${message}`);
}

function fail(message) {
	log(message);
	process.exit(1);
}

/** Runs a command, as the `postgres` user when we are root (the server refuses to run as root). */
function run(cmd, args, { asPostgres = false, allowFail = false, quiet = false } = {}) {
	const [file, argv] = asPostgres && isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
	const result = spawnSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
	if (result.error) {
		if (allowFail) return result;
		fail(`${cmd} could not run: ${result.error.message}`);
	}
	if (result.status !== 0 && !allowFail) {
		fail(`${cmd} ${args.join(' ')} failed (exit ${result.status}):\n${result.stderr || result.stdout}`);
	}
	if (!quiet && result.status !== 0) log(`${cmd} exited ${result.status}: ${(result.stderr || '').trim()}`);
	return result;
}

/** Newest installed server's bin folder (Debian puts them under /usr/lib/postgresql/<major>/bin). */
function findBinDir() {
	const root = '/usr/lib/postgresql';
	if (existsSync(root)) {
		const majors = readdirSync(root)
			.filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, 'bin', 'initdb')) && existsSync(join(root, d, 'bin', 'postgres')))
			.sort((a, b) => Number(b) - Number(a));
		if (majors[0]) return join(root, majors[0], 'bin');
	}
	const which = spawnSync('sh', ['-c', 'command -v pg_ctl'], { encoding: 'utf8' });
	const pgCtl = which.status === 0 ? which.stdout.trim() : '';
	if (pgCtl && existsSync(join(dirname(pgCtl), 'initdb')) && existsSync(join(dirname(pgCtl), 'postgres'))) return dirname(pgCtl);
	return undefined;
}

function install() {
	if (!isRoot) fail('PostgreSQL server binaries are missing and this is not root: install Debian\'s "postgresql" package first');
	if (!existsSync('/usr/bin/apt-get')) fail('PostgreSQL server binaries are missing and apt-get is not available to install them');
	log('installing Debian\'s postgresql package (apt-get update + install)');
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
		const r = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env });
		if (r.status !== 0) fail(`apt-get ${args.join(' ')} failed (exit ${r.status})`);
	}
}

function ready(bin) {
	const r = spawnSync(join(bin, 'pg_isready'), ['-h', host, '-p', String(port), '-q'], { stdio: 'ignore' });
	return r.status === 0;
}

function psql(bin, sql) {
	return run(join(bin, 'psql'), ['-h', host, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-tAc', sql]).stdout.trim();
}

function writeUrl() {
	const dir = join(repo, '.haven');
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, 'test-pg-url'), `${url}\n`);
	console.log(url);
}

function initCluster(bin) {
	rmSync(dataDir, { recursive: true, force: true });
	mkdirSync(dataDir, { recursive: true, mode: 0o700 });
	if (isRoot) {
		const pgUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
		const pgGid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
		chownSync(dataDir, pgUid, pgGid);
	}
	log(`creating a throwaway cluster in ${dataDir}`);
	run(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C.UTF-8'], { asPostgres: true });
}

/** Starts the cluster (creating it when missing or `fresh`); true once it answers. */
function start(bin, { fresh }) {
	if (fresh || !existsSync(join(dataDir, 'PG_VERSION'))) initCluster(bin);
	const options = [
		`-p ${port}`,
		`-c listen_addresses=${host}`,
		`-c unix_socket_directories=${dataDir}`,
		'-c fsync=off',
		'-c synchronous_commit=off',
		'-c full_page_writes=off',
		'-c max_connections=200'
	].join(' ');
	log(`starting PostgreSQL on ${host}:${port}`);
	const r = run(join(bin, 'pg_ctl'), ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-o', options, '-w', '-t', '60', 'start'], { asPostgres: true, allowFail: true });
	return r.status === 0 && ready(bin);
}

function main() {
	let bin = findBinDir();
	if (process.argv.includes('--stop')) {
		if (bin && existsSync(join(dataDir, 'PG_VERSION'))) run(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'fast', '-w', 'stop'], { asPostgres: true, allowFail: true });
		return;
	}
	if (!bin) {
		install();
		bin = findBinDir();
		if (!bin) fail('installed postgresql but still found no initdb/postgres under /usr/lib/postgresql/*/bin');
	}

	if (!ready(bin)) {
		if (isRoot && spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status !== 0) {
			fail('no "postgres" user to run the server as (Debian\'s postgresql-common creates it)');
		}
		// A folder left by a killed run normally starts fine (stale pid files are ignored); if it
		// does not, it only ever held test data: start over from a fresh cluster once.
		if (!start(bin, { fresh: false })) {
			log('the existing test cluster did not start; creating it anew');
			if (!start(bin, { fresh: true })) fail(`PostgreSQL did not start on ${host}:${port}; see ${join(dataDir, 'server.log')}`);
		}
	}

	if (psql(bin, `select 1 from pg_database where datname = '${database}'`) !== '1') {
		psql(bin, `create database ${database}`);
	}
	writeUrl();
}

main();
