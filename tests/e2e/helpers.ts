import { expect, type Page } from '@playwright/test';
import { E2E_PASSWORD } from '../../playwright.config';

/** Opens a page and waits until Svelte has hydrated it, so typing is never undone. */
export async function gotoReady(page: Page, path: string): Promise<void> {
	await page.goto(path);
	await page.locator('html[data-hydrated="true"]').waitFor();
}

export async function login(page: Page, user = 'admin', password = E2E_PASSWORD): Promise<void> {
	await gotoReady(page, '/login');
	await page.getByLabel('User name').fill(user);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await expect(page).toHaveURL(/\/pool$/, { timeout: 30_000 });
}

/** The embedded simulated pool's address, as the login form pre-fills it. */
export async function simAddress(page: Page): Promise<string> {
	await gotoReady(page, '/login');
	const value = await page.getByLabel('Pool address').inputValue();
	if (!/^127\.0\.0\.1:\d+$/.test(value)) throw new Error(`unexpected embedded pool address "${value}"`);
	return value;
}

/** Fault injection through the simulated pool's control endpoint (docs/simulator.md). */
export async function simControl(address: string, path: string, body: unknown = {}): Promise<unknown> {
	const res = await fetch(`http://${address}/control/${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body)
	});
	if (!res.ok) throw new Error(`control ${path}: HTTP ${res.status} ${await res.text()}`);
	return res.json();
}
