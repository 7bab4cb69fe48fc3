/**
 * Fixed-window counters for login attempts, in memory (one Haven process; several instances
 * behind a balancer each count their own, which still bounds guessing per instance).
 */
export class AttemptLimiter {
	readonly #max: number;
	readonly #windowMs: number;
	readonly #now: () => number;
	readonly #hits = new Map<string, { count: number; resetAt: number }>();

	constructor(options: { max: number; windowMs: number; now?: () => number }) {
		this.#max = options.max;
		this.#windowMs = options.windowMs;
		this.#now = options.now ?? Date.now;
	}

	/** Seconds until `key` may try again, or 0 when it may try now. */
	retryAfter(key: string): number {
		const entry = this.#hits.get(key);
		const now = this.#now();
		if (!entry || entry.resetAt <= now) return 0;
		return entry.count >= this.#max ? Math.ceil((entry.resetAt - now) / 1000) : 0;
	}

	hit(key: string): void {
		const now = this.#now();
		const entry = this.#hits.get(key);
		if (!entry || entry.resetAt <= now) this.#hits.set(key, { count: 1, resetAt: now + this.#windowMs });
		else entry.count += 1;
		if (this.#hits.size > 10_000) this.#prune(now);
	}

	reset(key: string): void {
		this.#hits.delete(key);
	}

	#prune(now: number): void {
		for (const [key, entry] of this.#hits) if (entry.resetAt <= now) this.#hits.delete(key);
	}
}

/** Failed logins per user and client address: a few tries, then a pause. */
export const failedLoginsPerUser = new AttemptLimiter({
	max: Number(process.env['HAVEN_LOGIN_MAX_FAILURES'] ?? 5),
	windowMs: Number(process.env['HAVEN_LOGIN_WINDOW_MS'] ?? 5 * 60_000)
});

/** All login attempts per client address, against spraying many user names. */
export const loginsPerAddress = new AttemptLimiter({
	max: Number(process.env['HAVEN_LOGIN_MAX_PER_ADDRESS'] ?? 30),
	windowMs: Number(process.env['HAVEN_LOGIN_WINDOW_MS'] ?? 5 * 60_000)
});
