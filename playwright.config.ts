import { defineConfig } from '@playwright/test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const E2E_PORT = Number(process.env['HAVEN_E2E_PORT'] ?? 4317);
export const E2E_PASSWORD = 'e2e-demo-password';

export default defineConfig({
	testDir: 'tests/e2e',
	outputDir: 'tests/artifacts',
	fullyParallel: false,
	workers: 1,
	retries: 0,
	timeout: 60_000,
	expect: { timeout: 10_000 },
	reporter: [['list'], ['json', { outputFile: '.haven/e2e-results.json' }]],
	use: {
		baseURL: `http://127.0.0.1:${E2E_PORT}`,
		screenshot: 'only-on-failure',
		trace: 'retain-on-failure',
		launchOptions: {
			executablePath: process.env['HAVEN_CHROMIUM'] ?? '/usr/bin/chromium',
			args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
		}
	},
	webServer: {
		command: 'node build/index.js',
		url: `http://127.0.0.1:${E2E_PORT}/login`,
		reuseExistingServer: false,
		timeout: 60_000,
		env: {
			PORT: String(E2E_PORT),
			HOST: '127.0.0.1',
			ORIGIN: `http://127.0.0.1:${E2E_PORT}`,
			HAVEN_SIM_PASSWORD: E2E_PASSWORD,
			HAVEN_EMBEDDED_SIM: 'small',
			HAVEN_SIM_SPEED: '60',
			HAVEN_LOG_LEVEL: 'warn',
			// Every spec logs in from 127.0.0.1; the per-address limit is tested in vitest.
			HAVEN_LOGIN_MAX_PER_ADDRESS: '100000',
			// A fresh history database per run, away from the one `npm start` keeps.
			HAVEN_DATA_DIR: join(tmpdir(), `haven-e2e-${Date.now()}`)
		}
	}
});
