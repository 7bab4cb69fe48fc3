// Playwright cannot download browsers here: use Debian's Chromium, installing it when missing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.HAVEN_CHROMIUM ?? '/usr/bin/chromium';

function sh(command) {
	const r = spawnSync('sh', ['-c', command], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
	return r.status === 0;
}

if (!existsSync(CHROMIUM)) {
	if (process.getuid?.() !== 0) {
		console.error(`Chromium is missing at ${CHROMIUM}. Install Debian's package: sudo apt-get install -y chromium`);
		process.exit(1);
	}
	console.log('Installing Debian chromium for the browser tests…');
	if (!sh('apt-get update -qq && apt-get install -y -qq chromium >/dev/null')) {
		console.error('apt-get install chromium failed');
		process.exit(1);
	}
}
