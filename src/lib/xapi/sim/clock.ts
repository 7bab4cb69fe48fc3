/**
 * Simulated time. The HA runtime reasons in toolstack seconds (a 60 s heartbeat timeout, a
 * 120 s restart retry); the clock maps them onto real time through a speed factor, so the demo
 * runs at speed 1 and tests at speed 600 or more, and `setSpeed` can change it mid-run without
 * losing or reordering a pending timer.
 */
export interface SimTimer {
	readonly id: number;
	/** Simulated epoch milliseconds at which it fires. */
	readonly due: number;
}

interface PendingTimer extends SimTimer {
	fire: () => void;
}

export class SimClock {
	#speed: number;
	/** Simulated ms at `#realBase`. */
	#simBase: number;
	#realBase: number;
	#timers: PendingTimer[] = [];
	#nextId = 1;
	#handle: ReturnType<typeof setTimeout> | undefined;
	#stopped = false;

	constructor(options: { speed?: number; start?: number } = {}) {
		this.#speed = checkSpeed(options.speed ?? 1);
		this.#realBase = Date.now();
		this.#simBase = options.start ?? this.#realBase;
	}

	get speed(): number {
		return this.#speed;
	}

	/** Simulated epoch milliseconds. */
	now(): number {
		return this.#simBase + (Date.now() - this.#realBase) * this.#speed;
	}

	/** Simulated time as XAPI writes datetimes: `20261125T16:05:00Z`. */
	isoNow(): string {
		return xapiDateTime(this.now());
	}

	setSpeed(speed: number): void {
		const now = this.now();
		this.#speed = checkSpeed(speed);
		this.#simBase = now;
		this.#realBase = Date.now();
		this.#schedule();
	}

	/**
	 * Jumps simulated time forward, firing every timer that falls due on the way in order, so
	 * a test can skip a 60 s heartbeat timeout without waiting for it at any speed.
	 */
	advance(seconds: number): void {
		if (!(seconds >= 0)) throw new RangeError(`cannot advance the clock by ${seconds} s`);
		this.#simBase += seconds * 1000;
		this.#fireDue();
	}

	/** Runs `fire` after `seconds` of simulated time. */
	after(seconds: number, fire: () => void): SimTimer {
		const timer: PendingTimer = { id: this.#nextId++, due: this.now() + Math.max(0, seconds) * 1000, fire };
		// Stable insertion: equal due times fire in the order they were set.
		const at = this.#timers.findIndex((t) => t.due > timer.due);
		if (at < 0) this.#timers.push(timer);
		else this.#timers.splice(at, 0, timer);
		this.#schedule();
		return { id: timer.id, due: timer.due };
	}

	cancel(timer: SimTimer | undefined): void {
		if (!timer) return;
		this.#timers = this.#timers.filter((t) => t.id !== timer.id);
		this.#schedule();
	}

	sleep(seconds: number): Promise<void> {
		return new Promise((resolve) => this.after(seconds, resolve));
	}

	/** How many timers are pending (shown in the control state). */
	pendingTimers(): number {
		return this.#timers.length;
	}

	stop(): void {
		this.#stopped = true;
		this.#timers = [];
		if (this.#handle) clearTimeout(this.#handle);
		this.#handle = undefined;
	}

	#schedule(): void {
		if (this.#handle) clearTimeout(this.#handle);
		this.#handle = undefined;
		const first = this.#timers[0];
		if (!first || this.#stopped) return;
		const realMs = Math.max(0, (first.due - this.now()) / this.#speed);
		// Node clamps delays above 2^31-1 ms to 1 ms; a long wait just re-arms.
		this.#handle = setTimeout(() => this.#fireDue(), Math.min(realMs, 2 ** 30));
		this.#handle.unref?.();
	}

	#fireDue(): void {
		this.#handle = undefined;
		const now = this.now();
		while (this.#timers[0] && this.#timers[0].due <= now && !this.#stopped) {
			const timer = this.#timers.shift();
			try {
				timer?.fire();
			} catch (e) {
				console.error('sim clock: timer failed', e);
			}
		}
		this.#schedule();
	}
}

function checkSpeed(speed: number): number {
	if (!Number.isFinite(speed) || speed <= 0 || speed > 1_000_000) {
		throw new RangeError(`clock speed must be a number above 0 and at most 1000000, got ${speed}`);
	}
	return speed;
}

export function xapiDateTime(epochMs: number): string {
	return new Date(epochMs).toISOString().replace(/[-]/g, '').replace(/\.\d{3}Z$/, 'Z');
}
