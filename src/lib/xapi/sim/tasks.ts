/**
 * XAPI tasks: what `Async.<class>.<method>` hands back at once. The work runs on the simulated
 * clock; progress, status, result and error_info are written through the database so that
 * `event.from(["task"])` watchers see every step, exactly as with a real pool.
 */
import { randomUUID } from 'node:crypto';
import { XapiCode } from '../codes';
import { XapiError } from '../errors';
import type { Ref, TaskRecord } from '../records';
import type { SimClock } from './clock';
import type { SimDatabase } from './database';
import { writeValue } from './xmlrpc';

export interface TaskHandle {
	readonly ref: Ref;
	/** Reports progress in 0..1 (clamped, never backwards). */
	progress(fraction: number): void;
	/** True once a client asked to cancel: long work should stop at its next step. */
	readonly cancelRequested: boolean;
	/** Throws TASK_CANCELLED if a cancel was requested; call between steps. */
	checkCancelled(): void;
}

export class TaskManager {
	readonly #cancelRequests = new Set<Ref>();

	constructor(
		private readonly db: SimDatabase,
		private readonly clock: SimClock
	) {}

	/**
	 * Creates a task and runs `work` in the background. `cancellable` adds "cancel" to the task's
	 * allowed_operations, as xapi does only for operations that check for cancellation.
	 */
	start(name: string, residentOn: Ref, work: (task: TaskHandle) => Promise<unknown>, opts: { cancellable?: boolean } = {}): Ref {
		const ref = `OpaqueRef:${randomUUID()}`;
		const record: TaskRecord = {
			uuid: randomUUID(),
			name_label: name,
			name_description: '',
			status: 'pending',
			progress: 0,
			result: '',
			error_info: [],
			created: this.clock.isoNow(),
			finished: '19700101T00:00:00Z',
			resident_on: residentOn,
			allowed_operations: opts.cancellable ? ['cancel'] : [],
			other_config: {}
		};
		this.db.add('task', ref, record);
		const cancelRequests = this.#cancelRequests;
		const handle: TaskHandle = {
			ref,
			progress: (fraction) => {
				const task = this.db.get('task', ref);
				if (!task || task.status !== 'pending') return;
				const next = Math.min(1, Math.max(task.progress, fraction));
				if (next === task.progress) return;
				task.progress = next;
				this.db.touch('task', ref);
			},
			get cancelRequested() {
				return cancelRequests.has(ref);
			},
			checkCancelled: () => {
				if (this.#cancelRequests.has(ref)) throw new XapiError(XapiCode.TASK_CANCELLED, [ref]);
			}
		};
		// Start on the next tick so the caller gets the ref before anything can finish.
		setImmediate(() => {
			work(handle).then(
				(result) => this.#finish(ref, result),
				(e: unknown) => this.#fail(ref, e)
			);
		});
		return ref;
	}

	/** task.cancel: only a pending task that allows it; the work notices at its next step. */
	cancel(ref: Ref): void {
		const task = this.db.get('task', ref);
		if (!task) throw new XapiError(XapiCode.HANDLE_INVALID, ['task', ref]);
		if (task.status !== 'pending' || !task.allowed_operations.includes('cancel')) {
			throw new XapiError(XapiCode.OPERATION_NOT_ALLOWED, [`Task ${ref} cannot be cancelled in state ${task.status}`]);
		}
		this.#cancelRequests.add(ref);
		task.status = 'cancelling';
		task.allowed_operations = [];
		this.db.touch('task', ref);
	}

	destroy(ref: Ref): void {
		if (!this.db.get('task', ref)) throw new XapiError(XapiCode.HANDLE_INVALID, ['task', ref]);
		this.#cancelRequests.delete(ref);
		this.db.remove('task', ref);
	}

	#finish(ref: Ref, result: unknown): void {
		const task = this.db.get('task', ref);
		if (!task) return;
		if (this.#cancelRequests.has(ref)) {
			// The work finished before it noticed: xapi still reports the cancel it promised.
			this.#fail(ref, new XapiError(XapiCode.TASK_CANCELLED, [ref]));
			return;
		}
		task.status = 'success';
		task.progress = 1;
		// xapi stores the result as an XML-RPC value string, whatever the caller's protocol.
		task.result = result === undefined || result === null || result === '' ? '' : writeValue(result);
		task.finished = this.clock.isoNow();
		task.allowed_operations = [];
		this.db.touch('task', ref);
	}

	#fail(ref: Ref, e: unknown): void {
		const task = this.db.get('task', ref);
		if (!task) return;
		const error = e instanceof XapiError ? e : new XapiError(XapiCode.INTERNAL_ERROR, [e instanceof Error ? e.message : String(e)]);
		const cancelled = error.code === XapiCode.TASK_CANCELLED;
		this.#cancelRequests.delete(ref);
		task.status = cancelled ? 'cancelled' : 'failure';
		task.error_info = [error.code, ...error.params];
		task.finished = this.clock.isoNow();
		task.allowed_operations = [];
		this.db.touch('task', ref);
	}
}

