import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleFromPool } from '../../../src/lib/server/roles';
import { XapiClient } from '../../../src/lib/xapi/client';
import { startSimulatedPool, type RunningSimulatedPool } from '../../../src/lib/xapi/sim';

const PASSWORD = 'roles-test-password';
let sim: RunningSimulatedPool;

beforeAll(async () => {
	sim = await startSimulatedPool({ scenario: 'small', port: 0, password: PASSWORD, authFailureDelayMs: 10 });
});

afterAll(async () => {
	await sim?.stop();
});

describe('roleFromPool reads the role from the pool, never from the browser', () => {
	const cases: [string, string][] = [
		['root', 'pool-admin'],
		['admin', 'pool-admin'],
		['operator', 'pool-operator'],
		['vmoperator', 'vm-operator'],
		['helpdesk', 'read-only']
	];
	for (const [user, role] of cases) {
		it(`${user} is ${role}`, async () => {
			const client = new XapiClient({ address: sim.address });
			await client.login(user, PASSWORD);
			try {
				expect(await roleFromPool(client)).toBe(role);
			} finally {
				await client.logout();
			}
		});
	}
});
