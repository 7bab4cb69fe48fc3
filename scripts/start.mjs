// `npm start`: install what is missing, build when stale, start Haven on the embedded simulated
// pool, print the URL and demo logins. PORT and HOST are honoured.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuild, ensureDependencies, root } from './lib/ensure.mjs';

function demoPassword() {
	if (process.env.HAVEN_SIM_PASSWORD) return process.env.HAVEN_SIM_PASSWORD;
	// Kept between runs so the printed logins stay valid for the person who saved them.
	const file = join(root, '.haven', 'demo-password');
	if (existsSync(file)) return readFileSync(file, 'utf8').trim();
	mkdirSync(join(root, '.haven'), { recursive: true });
	const password = randomBytes(9).toString('base64url');
	writeFileSync(file, password, { mode: 0o600 });
	return password;
}

async function waitForServer(url, child) {
	for (let i = 0; i < 300; i++) {
		if (child.exitCode !== null) throw new Error(`Haven exited with code ${child.exitCode}`);
		try {
			const res = await fetch(url, { redirect: 'manual' });
			if (res.status < 500) return;
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	throw new Error(`Haven did not answer at ${url}`);
}

async function main() {
	ensureDependencies();
	ensureBuild();
	const port = process.env.PORT ?? '3000';
	const host = process.env.HOST ?? '127.0.0.1';
	const password = demoPassword();
	const embedded = !process.env.HAVEN_POOLS || process.env.HAVEN_EMBEDDED_SIM;
	const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
	const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
	// adapter-node assumes https without ORIGIN, and the CSRF origin check would refuse every form.
	const origin = process.env.ORIGIN ?? url;
	const child = spawn(process.execPath, [join(root, 'build', 'index.js')], {
		cwd: root,
		stdio: ['ignore', 'inherit', 'inherit'],
		env: { ...process.env, PORT: port, HOST: host, ORIGIN: origin, HAVEN_SIM_PASSWORD: password, NODE_ENV: 'production' }
	});
	for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
	child.on('exit', (code) => process.exit(code ?? 0));
	await waitForServer(`${url}/login`, child);
	console.log(`\nHaven is running at ${url}`);
	if (embedded) {
		console.log('Embedded simulated pool (pre-filled on the login page). Demo logins:');
		console.log(`  admin     / ${password}   (pool-admin: sets up and changes HA)`);
		console.log(`  operator  / ${password}   (pool-operator)`);
		console.log(`  helpdesk  / ${password}   (read-only)`);
	}
	console.log('Press Ctrl+C to stop.\n');
}

main().catch((e) => {
	console.error(`npm start: ${e instanceof Error ? e.message : String(e)}`);
	process.exit(1);
});
