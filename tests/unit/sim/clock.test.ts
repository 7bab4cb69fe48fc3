import { describe, expect, it } from 'vitest';
import { SimClock, xapiDateTime } from '../../../src/lib/xapi/sim/clock';

describe('SimClock', () => {
	it('fires timers in due order when advanced, equal times in the order they were set', () => {
		const clock = new SimClock({ speed: 1, start: 0 });
		const fired: string[] = [];
		clock.after(60, () => fired.push('b'));
		clock.after(10, () => fired.push('a'));
		clock.after(60, () => fired.push('c'));
		clock.after(120, () => fired.push('late'));
		clock.advance(61);
		expect(fired).toEqual(['a', 'b', 'c']);
		clock.stop();
	});

	it('runs simulated seconds faster at a higher speed', async () => {
		const clock = new SimClock({ speed: 1000 });
		const started = Date.now();
		await clock.sleep(60); // 60 ms of real time
		expect(Date.now() - started).toBeLessThan(2000);
		clock.stop();
	});

	it('keeps a pending timer when the speed changes', async () => {
		const clock = new SimClock({ speed: 1 });
		let fired = false;
		clock.after(30, () => (fired = true));
		clock.setSpeed(10_000);
		await new Promise((resolve) => setTimeout(resolve, 50));
		expect(fired).toBe(true);
		clock.stop();
	});

	it('refuses a speed that is not positive', () => {
		expect(() => new SimClock({ speed: 0 })).toThrow(RangeError);
		expect(() => new SimClock({ speed: Number.NaN })).toThrow(RangeError);
	});

	it('writes datetimes as XAPI does', () => {
		expect(xapiDateTime(Date.UTC(2026, 10, 25, 16, 5, 0, 123))).toBe('20261125T16:05:00Z');
	});
});
