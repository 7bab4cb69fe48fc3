import { expect, type Page } from '@playwright/test';
import { E2E_PASSWORD } from '../../playwright.config';

export async function login(page: Page, user = 'admin', password = E2E_PASSWORD): Promise<void> {
	await page.goto('/login');
	await page.getByLabel('User name').fill(user);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Log in' }).click();
	await expect(page).toHaveURL(/\/pool$/);
}
