// Shared by `npm start` and `npm test`: install only what is missing or stale, build only when
// the sources changed, so a second run starts in seconds.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const root = new URL('../..', import.meta.url).pathname;

export function run(command, args, options = {}) {
	const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
	if (result.error) throw result.error;
	return result.status ?? 1;
}

function hashFiles(files) {
	const hash = createHash('sha256');
	for (const f of files) if (existsSync(join(root, f))) hash.update(readFileSync(join(root, f)));
	return hash.digest('hex');
}

/** npm ci when node_modules is missing or was installed from another lock file. */
export function ensureDependencies() {
	const stamp = join(root, 'node_modules', '.haven-installed');
	const want = hashFiles(['package.json', 'package-lock.json']);
	if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
	console.log('Installing dependencies (npm ci)…');
	if (run('npm', ['ci', '--no-audit', '--no-fund']) !== 0) throw new Error('npm ci failed');
	writeFileSync(stamp, want);
}

function newestMtime(path) {
	const full = join(root, path);
	if (!existsSync(full)) return 0;
	const st = statSync(full);
	if (!st.isDirectory()) return st.mtimeMs;
	let newest = st.mtimeMs;
	for (const entry of readdirSync(full)) newest = Math.max(newest, newestMtime(join(path, entry)));
	return newest;
}

/** vite build when build/ is missing or older than any source. */
export function ensureBuild() {
	const stamp = join(root, 'build', '.haven-built');
	const sources = ['src', 'static', 'package-lock.json', 'svelte.config.js', 'vite.config.ts', 'tsconfig.json'];
	const newest = Math.max(...sources.map(newestMtime));
	if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest) return;
	console.log('Building Haven…');
	if (run('npx', ['vite', 'build', '--logLevel', 'warn']) !== 0) throw new Error('build failed');
	mkdirSync(join(root, 'build'), { recursive: true });
	writeFileSync(stamp, new Date().toISOString());
}
