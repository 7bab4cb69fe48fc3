import { describe, expect, it } from 'vitest';
import { XapiClient } from '../../../src/lib/xapi/client';
import { postForm, loginCookie, usePoolAndHaven } from '../helpers/haven-server';

const PASSWORD = 'live-http-password';
const IDLE_MS = 400;
const pair = usePoolAndHaven(PASSWORD, { HAVEN_LIVE_IDLE_MS: String(IDLE_MS) });

async function login(user: string): Promise<string> {
	return loginCookie(pair, user, PASSWORD);
}

/** An open event stream, collecting what it receives. */
async function openStream(cookie: string) {
	const abort = new AbortController();
	const res = await fetch(`${pair.haven.url}/api/events`, { headers: { cookie }, signal: abort.signal });
	expect(res.status).toBe(200);
	let text = '';
	const done = (async () => {
		try {
			for await (const chunk of res.body as AsyncIterable<Uint8Array>) text += new TextDecoder().decode(chunk);
		} catch {
			// aborted
		}
	})();
	return { text: () => text, close: () => abort.abort(), done };
}

describe('the shared live feed', () => {
	it('keeps serving a page that joins just after others left', async () => {
		const first = await login('helpdesk');
		const second = await login('operator');
		const a = await openStream(first);
		const b = await openStream(first);
		await expect.poll(() => a.text().includes('event: overview') && b.text().includes('event: overview')).toBe(true);
		// Both pages of the first session are ended together by its logout...
		expect((await postForm(pair.haven.url, '/logout', {}, { cookie: first })).status).toBe(303);
		await Promise.all([a.done, b.done]);
		expect(a.text()).toContain('event: ended');
		// ...a page of the second session comes and goes (the browser closes it)...
		const c = await openStream(second);
		await expect.poll(() => c.text().includes('event: overview')).toBe(true);
		c.close();
		await c.done;
		// ...and the next one opens at once, while the idle delay of the pages that went runs.
		const d = await openStream(second);
		await expect.poll(() => d.text().includes('event: overview')).toBe(true);
		// Longer than the idle delay: nothing left over from the pages that went may stop this watch.
		await new Promise((r) => setTimeout(r, IDLE_MS * 3));
		const before = d.text().length;
		// Any change on the pool: a VM's restart priority.
		const admin = new XapiClient({ address: pair.sim.address });
		await admin.login('admin', PASSWORD);
		const vms = await admin.getAllRecords('VM');
		const web1 = Object.entries(vms).find(([, vm]) => vm.name_label === 'web-1')?.[0];
		try {
			await admin.call('VM.set_ha_restart_priority', web1, 'best-effort');
			await expect.poll(() => d.text().slice(before).includes('event: overview'), { timeout: 10_000 }).toBe(true);
		} finally {
			await admin.call('VM.set_ha_restart_priority', web1, '');
			await admin.logout();
			d.close();
		}
	});
});
