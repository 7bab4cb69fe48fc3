import { afterEach, describe, expect, it } from 'vitest';
import { XapiConnectionError, XapiError } from '../../../src/lib/xapi/errors';
import { inProcessTransport, SimulatedPool } from '../../../src/lib/xapi/sim/index';
import { loadScenario } from '../../../src/lib/xapi/sim/scenarios';

let pool: SimulatedPool | undefined;
afterEach(() => pool?.stop());

describe('inProcessTransport', () => {
	it('speaks XAPI without sockets, with HOST_IS_SLAVE and refusals like the real endpoints', async () => {
		pool = new SimulatedPool(loadScenario('small'), { password: 'pw', authFailureDelayMs: 1, speed: 1000 });
		const master = inProcessTransport(pool);
		const session = (await master('session.login_with_password', ['root', 'pw'])) as string;
		const records = (await master('pool.get_all_records', [session])) as Record<string, { master: string }>;
		const [poolRef, record] = Object.entries(records)[0] ?? [];
		// A copy: changing it does not change the pool.
		if (record) record.master = 'OpaqueRef:NULL';
		expect(pool.snapshot.pool[poolRef ?? '']?.master).not.toBe('OpaqueRef:NULL');
		await expect(inProcessTransport(pool, '127.0.0.2')('session.login_with_password', ['root', 'pw'])).rejects.toMatchObject({ code: 'HOST_IS_SLAVE', params: ['127.0.0.1'] });
		await expect(master('VM.get_record', [session, 'OpaqueRef:x'])).rejects.toBeInstanceOf(XapiError);
		pool.runtime.failHost(pool.masterRef);
		await expect(inProcessTransport(pool, '127.0.0.1')('pool.get_all', [session])).rejects.toBeInstanceOf(XapiConnectionError);
	});
});
