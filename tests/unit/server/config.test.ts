import { describe, expect, it } from 'vitest';
import { parsePoolList, sameAddress } from '../../../src/lib/server/config';

describe('parsePoolList reads HAVEN_POOLS', () => {
	it('accepts named and bare entries', () => {
		const pools = parsePoolList('prod=xen-prod.example.org, https://10.1.2.3:8443');
		expect(pools).toEqual([
			{ id: 'prod', name: 'prod', address: 'xen-prod.example.org', embedded: false },
			{ id: 'https-10-1-2-3-8443', name: 'https://10.1.2.3:8443', address: 'https://10.1.2.3:8443', embedded: false }
		]);
	});

	it('is empty when unset', () => {
		expect(parsePoolList(undefined)).toEqual([]);
		expect(parsePoolList('  ')).toEqual([]);
	});

	it('names the entry that is wrong', () => {
		expect(() => parsePoolList('a=xen1,,b=xen2')).toThrow(/entry 2/);
		expect(() => parsePoolList('lab=http://')).toThrow(/entry 1 \("lab=http:\/\/"\) is not a host/);
	});
});

describe('sameAddress compares where a connection would go', () => {
	it('treats a bare host as https and loopback as http', () => {
		expect(sameAddress('xen1.example.org', 'https://xen1.example.org')).toBe(true);
		expect(sameAddress('127.0.0.1:8080', 'http://127.0.0.1:8080/')).toBe(true);
		expect(sameAddress('xen1.example.org', 'xen2.example.org')).toBe(false);
		expect(sameAddress('127.0.0.1:8080', '127.0.0.1:8081')).toBe(false);
	});
});
