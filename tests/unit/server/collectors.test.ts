import { describe, expect, it } from 'vitest';
import { collectorCredentials } from '../../../src/lib/server/collectors';

const pool = { id: 'prod-east', name: 'prod-east', address: 'xen1', embedded: false };

describe('collectorCredentials', () => {
	it('prefers per-pool credentials, then the shared ones', () => {
		const env = { HAVEN_COLLECTOR_USER: 'watch', HAVEN_COLLECTOR_PASSWORD: 'p1', HAVEN_COLLECTOR_PROD_EAST_USER: 'east', HAVEN_COLLECTOR_PROD_EAST_PASSWORD: 'p2' };
		expect(collectorCredentials(pool, undefined, env)).toEqual({ user: 'east', password: 'p2' });
		expect(collectorCredentials({ ...pool, id: 'lab' }, undefined, env)).toEqual({ user: 'watch', password: 'p1' });
	});

	it('uses the read-only demo user on the embedded pool, and nothing when unconfigured', () => {
		expect(collectorCredentials({ ...pool, embedded: true }, 'demo', {})).toEqual({ user: 'helpdesk', password: 'demo' });
		expect(collectorCredentials(pool, 'demo', {})).toBeNull();
	});
});
