import { XAPI_CLASSES, type RecordsByClass, type Ref, type Snapshot, type XapiClassName } from '../records';

/** Where an object stands in the event stream: the generations of its creation and last change. */
interface RowStamp {
	created: number;
	modified: number;
}

export interface Deletion {
	cls: XapiClassName;
	ref: Ref;
	generation: number;
}

export interface ChangedRow {
	cls: XapiClassName;
	ref: Ref;
	operation: 'add' | 'mod';
	generation: number;
}

/**
 * The pool's database: the snapshot plus a generation counter, as xapi's db cache keeps one.
 * Every write goes through `add`, `touch` (after mutating a record in place) or `remove`, so
 * event.from can answer "what changed since generation N" exactly, and long-polls wake up.
 */
export class SimDatabase {
	readonly snapshot: Snapshot;
	#generation = 0;
	readonly #stamps = new Map<XapiClassName, Map<Ref, RowStamp>>();
	#deletions: Deletion[] = [];
	/** Deletions up to this generation have been forgotten: older tokens get EVENTS_LOST. */
	#forgottenUpTo = 0;
	readonly #waiters = new Set<() => void>();
	readonly #refClass = new Map<Ref, XapiClassName>();

	constructor(snapshot: Snapshot) {
		this.snapshot = snapshot;
		for (const cls of XAPI_CLASSES) {
			this.snapshot[cls] ??= {};
			const stamps = new Map<Ref, RowStamp>();
			this.#stamps.set(cls, stamps);
			for (const ref of Object.keys(this.snapshot[cls])) {
				stamps.set(ref, { created: 1, modified: 1 });
				this.#refClass.set(ref, cls);
			}
		}
		this.#generation = 1;
	}

	get generation(): number {
		return this.#generation;
	}

	/** The class an object belongs to, or undefined for a ref the pool never had. */
	classOf(ref: Ref): XapiClassName | undefined {
		return this.#refClass.get(ref);
	}

	get<K extends XapiClassName>(cls: K, ref: Ref): RecordsByClass[K] | undefined {
		return (this.snapshot[cls] as Record<Ref, RecordsByClass[K]>)[ref];
	}

	add<K extends XapiClassName>(cls: K, ref: Ref, record: RecordsByClass[K]): void {
		(this.snapshot[cls] as Record<Ref, RecordsByClass[K]>)[ref] = record;
		const gen = ++this.#generation;
		this.#stamps.get(cls)?.set(ref, { created: gen, modified: gen });
		this.#refClass.set(ref, cls);
		this.#wake();
	}

	/** Records that `ref` changed (its record was mutated in place). */
	touch(cls: XapiClassName, ref: Ref): void {
		const stamp = this.#stamps.get(cls)?.get(ref);
		if (!stamp) return;
		stamp.modified = ++this.#generation;
		this.#wake();
	}

	remove(cls: XapiClassName, ref: Ref): void {
		const table = this.snapshot[cls] as Record<Ref, unknown>;
		if (!(ref in table)) return;
		delete table[ref];
		this.#stamps.get(cls)?.delete(ref);
		this.#refClass.delete(ref);
		this.#deletions.push({ cls, ref, generation: ++this.#generation });
		// Bounded, so a long demo does not grow without limit; tokens older than what is
		// remembered get EVENTS_LOST, as xapi answers when its event queue overflowed.
		if (this.#deletions.length > 10_000) {
			const dropped = this.#deletions.splice(0, 5_000);
			this.#forgottenUpTo = dropped[dropped.length - 1]?.generation ?? this.#forgottenUpTo;
		}
		this.#wake();
	}

	/**
	 * Makes the tables equal to `next` (a scenario's snapshot): objects it lacks are deleted,
	 * the others added or replaced, each as an event, so watchers follow a reset like any change.
	 */
	replaceAll(next: Snapshot): void {
		for (const cls of XAPI_CLASSES) {
			const wanted = (next[cls] ?? {}) as Record<Ref, RecordsByClass[typeof cls]>;
			for (const ref of Object.keys(this.snapshot[cls])) if (!(ref in wanted)) this.remove(cls, ref);
			for (const [ref, record] of Object.entries(wanted)) {
				const table = this.snapshot[cls] as Record<Ref, RecordsByClass[typeof cls]>;
				if (ref in table) {
					table[ref] = record;
					this.touch(cls, ref);
				} else this.add(cls, ref, record);
			}
		}
	}

	/** Whether a client that last saw generation `since` may have missed a deletion. */
	lostSince(since: number): boolean {
		return since < this.#forgottenUpTo;
	}

	/** Rows of `classes` created or changed after generation `since`, oldest first. */
	changedSince(since: number, classes: ReadonlySet<XapiClassName>): ChangedRow[] {
		const rows: ChangedRow[] = [];
		for (const cls of classes) {
			const stamps = this.#stamps.get(cls);
			if (!stamps) continue;
			for (const [ref, stamp] of stamps) {
				if (stamp.modified <= since) continue;
				rows.push({ cls, ref, operation: stamp.created > since ? 'add' : 'mod', generation: stamp.modified });
			}
		}
		return rows.sort((a, b) => a.generation - b.generation);
	}

	deletedSince(since: number, classes: ReadonlySet<XapiClassName>): Deletion[] {
		return this.#deletions.filter((d) => d.generation > since && classes.has(d.cls));
	}

	/** Resolves on the next write, or after `ms` real milliseconds, whichever comes first. */
	waitForChange(ms: number): Promise<void> {
		return new Promise((resolve) => {
			const done = () => {
				clearTimeout(timer);
				this.#waiters.delete(done);
				resolve();
			};
			const timer = setTimeout(done, Math.max(0, ms));
			this.#waiters.add(done);
		});
	}

	/** Wakes every long-poll (used when the pool stops). */
	wakeAll(): void {
		this.#wake();
	}

	#wake(): void {
		for (const waiter of [...this.#waiters]) waiter();
	}
}
