// `npm test`: type check, unit + integration tests (vitest, against the simulated pool over
// HTTP), then browser tests (Playwright on Debian's Chromium). Installs what is missing first.
// Ends with one plain "N passed, N failed" line summing every runner.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuild, ensureDependencies, root, run } from './lib/ensure.mjs';

const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function step(name, command, args, env = {}) {
	const started = Date.now();
	console.log(`\n=== ${name} ===`);
	const status = run(command, args, { env: { ...process.env, ...env } });
	console.log(`=== ${name}: ${status === 0 ? 'ok' : `FAILED (exit ${status})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
	if (status !== 0) failures.push(name);
	return status;
}

function countVitest(file) {
	if (!existsSync(file)) return;
	const report = JSON.parse(readFileSync(file, 'utf8'));
	totals.passed += report.numPassedTests ?? 0;
	totals.failed += report.numFailedTests ?? 0;
	totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}

function countPlaywright(file) {
	if (!existsSync(file)) return;
	const report = JSON.parse(readFileSync(file, 'utf8'));
	totals.passed += report.stats?.expected ?? 0;
	totals.failed += (report.stats?.unexpected ?? 0) + (report.stats?.flaky ?? 0);
	totals.skipped += report.stats?.skipped ?? 0;
}

function databaseForTests() {
	if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
	const script = join(root, 'scripts', 'ensure-postgres.mjs');
	if (!existsSync(script)) return undefined;
	if (step('PostgreSQL for storage tests', process.execPath, [script]) !== 0) return undefined;
	const file = join(root, '.haven', 'test-pg-url');
	return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

ensureDependencies();
const vitestReport = join(root, '.haven', 'vitest-results.json');
const e2eReport = join(root, '.haven', 'e2e-results.json');
rmSync(vitestReport, { force: true });
rmSync(e2eReport, { force: true });

step('svelte-check', 'npm', ['run', '--silent', 'check']);
// Integration tests run the built server as a real process, so build before vitest.
ensureBuild();
const databaseUrl = databaseForTests();
step('vitest', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${vitestReport}`], databaseUrl ? { TEST_DATABASE_URL: databaseUrl } : {});
countVitest(vitestReport);
if (step('chromium', process.execPath, [join(root, 'scripts', 'ensure-chromium.mjs')]) === 0) {
	step('playwright', 'npx', ['playwright', 'test']);
	countPlaywright(e2eReport);
}

console.log(`\n${failures.length > 0 ? `Failed steps: ${failures.join(', ')}` : 'All steps passed.'}`);
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(failures.length > 0 || totals.failed > 0 ? 1 : 0);
