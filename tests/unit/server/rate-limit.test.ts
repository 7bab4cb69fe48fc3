import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from '../../../src/lib/server/rate-limit';

describe('AttemptLimiter', () => {
	it('lets max attempts through, then asks to wait until the window ends', () => {
		let now = 1_000_000;
		const limiter = new AttemptLimiter({ max: 3, windowMs: 60_000, now: () => now });
		for (let i = 0; i < 3; i++) {
			expect(limiter.retryAfter('u')).toBe(0);
			limiter.hit('u');
		}
		expect(limiter.retryAfter('u')).toBe(60);
		expect(limiter.retryAfter('other')).toBe(0);
		now += 30_000;
		expect(limiter.retryAfter('u')).toBe(30);
		now += 30_001;
		expect(limiter.retryAfter('u')).toBe(0);
	});

	it('forgets a key on reset (a successful login)', () => {
		const limiter = new AttemptLimiter({ max: 1, windowMs: 60_000 });
		limiter.hit('u');
		expect(limiter.retryAfter('u')).toBeGreaterThan(0);
		limiter.reset('u');
		expect(limiter.retryAfter('u')).toBe(0);
	});
});
