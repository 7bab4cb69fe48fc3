import { describe, expect, it } from 'vitest';
import { formatXapiTime, messageSeverity, parseXapiTime } from '../../../src/lib/components/logs/time';

describe('XAPI times in the logs', () => {
	it('reads the basic-format datetime XAPI sends', () => {
		expect(parseXapiTime('20261125T16:05:09Z')).toBe(Date.UTC(2026, 10, 25, 16, 5, 9));
		expect(formatXapiTime('20261125T16:05:09Z')).toBe('2026-11-25 16:05:09 UTC');
	});
	it('reads ISO 8601 too', () => {
		expect(parseXapiTime('2026-11-25T16:05:09.123Z')).toBe(Date.UTC(2026, 10, 25, 16, 5, 9));
	});
	it('treats the epoch and garbage as unset', () => {
		expect(parseXapiTime('19700101T00:00:00Z')).toBeNull();
		expect(formatXapiTime('not a date')).toBe('—');
	});
	it('names message priorities, 1 being the most severe', () => {
		expect([1, 2, 3, 4, 5].map(messageSeverity)).toEqual(['critical', 'major', 'warning', 'minor', 'info']);
	});
});
