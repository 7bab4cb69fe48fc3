/**
 * HA operations on a pool without an HA licence (`unlicensed` scenario): refused before any
 * change with the pool's own code, and roles below pool-operator never get that far.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim';
import { postForm, sessionCookie, startHaven, type RunningHaven } from '../helpers/haven-server';

const PASSWORD = 'operations-licence-secret-7c2';
let sim: RunningSimulatedPool;
let haven: RunningHaven;

async function login(user: string): Promise<string> {
	const res = await postForm(haven.url, '/login', { pool: sim.address, user, password: PASSWORD });
	const cookie = sessionCookie(res)?.split(';')[0];
	if (!cookie) throw new Error(`login ${user} failed: ${res.status}`);
	return cookie;
}

function enableBody() {
	const snap = sim.pool.snapshot;
	const sr = Object.entries(snap.SR).find(([, s]) => s.type === 'nfs')?.[0];
	const vms = Object.entries(snap.VM)
		.filter(([, v]) => !v.is_control_domain && !v.is_a_template)
		.map(([vm, v]) => ({ vm, priority: v.ha_restart_priority as '' | 'restart' | 'best-effort', order: v.order, startDelay: v.start_delay }));
	const changed = vms.map((s, i) => (i === 0 ? { ...s, priority: 'restart' as const } : s));
	return { sr, ntol: 0, vms: changed, baseline: { haEnabled: false, ntol: 0, vms } };
}

beforeAll(async () => {
	sim = await startSimulatedPool({ scenario: 'unlicensed', port: 0, password: PASSWORD, authFailureDelayMs: 10, speed: 600 });
	haven = await startHaven({ HAVEN_POOLS: `test=${sim.address}`, HAVEN_EMBEDDED_SIM: 'none' });
});

afterAll(async () => {
	// Haven's history collector can keep the process alive after SIGTERM: do not wait on it.
	if (haven?.child.exitCode === null) haven.child.kill('SIGKILL');
	await sim?.stop();
});

describe('enable on an unlicensed pool', () => {
	it('is refused with LICENCE_RESTRICTION before any priority is written', async () => {
		const cookie = await login('operator');
		const res = await fetch(`${haven.url}/api/ha/enable`, {
			method: 'POST',
			headers: { origin: haven.url, 'content-type': 'application/json', cookie },
			body: JSON.stringify(enableBody())
		});
		expect(res.status).toBe(409);
		const answer = (await res.json()) as { code: string; message: string };
		expect(answer.code).toBe('LICENCE_RESTRICTION');
		expect(answer.message).toContain('licence');
		expect(Object.values(sim.pool.snapshot.VM).every((v) => v.ha_restart_priority === '')).toBe(true);
		expect(Object.values(sim.pool.snapshot.pool)[0]?.ha_enabled).toBe(false);
	});

	it('refuses roles below pool-operator with 403, whatever the body says', async () => {
		for (const user of ['vmoperator', 'vmadmin', 'poweradmin', 'helpdesk']) {
			const cookie = await login(user);
			const res = await fetch(`${haven.url}/api/ha/enable`, {
				method: 'POST',
				headers: { origin: haven.url, 'content-type': 'application/json', cookie },
				body: JSON.stringify({ ...enableBody(), role: 'pool-admin' })
			});
			expect(res.status, user).toBe(403);
		}
	});
});
