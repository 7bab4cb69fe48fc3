import * as v from 'valibot';
import type { XapiClient } from './client';
import { XapiCode } from './codes';
import { XapiError, XapiResponseError, isXapiError } from './errors';
import { parseEventFromResult } from './events';
import type { Ref, TaskRecord } from './records';
import { parseXmlRpcValue } from './xmlrpc';

const TaskStateSchema = v.object({
	status: v.picklist(['pending', 'success', 'failure', 'cancelling', 'cancelled']),
	progress: v.pipe(
		v.union([v.number(), v.string()]),
		v.transform((p) => Number(p))
	),
	result: v.optional(v.string(), ''),
	error_info: v.optional(v.array(v.string()), [])
});

type TaskState = Pick<TaskRecord, 'status' | 'progress' | 'result' | 'error_info'>;

function parseTaskState(raw: unknown, task: Ref): TaskState {
	const parsed = v.safeParse(TaskStateSchema, raw);
	if (!parsed.success) {
		const issue = parsed.issues[0];
		const where = issue ? v.getDotPath(issue) : null;
		throw new XapiResponseError(`task ${task}: unexpected record${where ? ` at ${where}` : ''}: ${issue?.message ?? 'invalid'}`);
	}
	return parsed.output;
}

export interface WaitForTaskOptions {
	/** Called with the task's progress (0..1) whenever it moves, the first reading included. */
	onProgress?: (progress: number) => void;
	/** Aborting asks the pool to cancel the task (task.cancel) and rejects with the reason. */
	signal?: AbortSignal;
	/** Polling interval, used only when the pool has no event.from. */
	pollMs?: number;
	/** Seconds one event.from call may wait for the task to change. */
	eventTimeoutS?: number;
}

/**
 * The task's outcome: `result` for success (parsed from XAPI's XML-RPC value string), the
 * `XapiError` of `error_info` for failure, `TASK_CANCELLED` for cancelled; undefined while it runs.
 */
export function taskOutcome(state: TaskState, task: Ref): { value: unknown } | undefined {
	switch (state.status) {
		case 'success':
			return { value: state.result.trimStart().startsWith('<value') ? parseXmlRpcValue(state.result) : state.result };
		case 'failure': {
			const error = XapiError.fromDescription(state.error_info.length > 0 ? state.error_info : [XapiCode.INTERNAL_ERROR, 'task failed without error_info']);
			error.task = task;
			throw error;
		}
		case 'cancelled': {
			const error = XapiError.fromDescription(state.error_info.length > 0 ? state.error_info : [XapiCode.TASK_CANCELLED, task]);
			error.task = task;
			throw error;
		}
		default:
			return undefined;
	}
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
	return new Promise((resolve, reject) => {
		if (signal?.aborted) return reject(signal.reason as Error);
		const onAbort = () => {
			clearTimeout(timer);
			reject(signal?.reason as Error);
		};
		const timer = setTimeout(() => {
			signal?.removeEventListener('abort', onAbort);
			resolve();
		}, ms);
		signal?.addEventListener('abort', onAbort, { once: true });
	});
}

/**
 * Waits for an XAPI task to finish and returns its result. Watches the task through
 * event.from (token taken before the first read, so the finish cannot slip between), and
 * falls back to polling task.get_record on a pool without event.from.
 */
export async function waitForTask(client: XapiClient, task: Ref, options: WaitForTaskOptions = {}): Promise<unknown> {
	const { onProgress, signal, pollMs = 1000, eventTimeoutS = 30 } = options;
	let lastProgress: number | undefined;
	const observe = (state: TaskState) => {
		if (onProgress && state.progress !== lastProgress) {
			lastProgress = state.progress;
			onProgress(state.progress);
		}
		return taskOutcome(state, task);
	};

	try {
		signal?.throwIfAborted();
		const read = async () => observe(parseTaskState(await client.callWith({ signal }, 'task.get_record', task), task));
		let session = client.sessionRef;
		let token: string | undefined = await takeToken(client, task, signal);
		let outcome = await read();
		while (outcome === undefined) {
			if (token === undefined) {
				await sleep(pollMs, signal);
				outcome = await read();
				continue;
			}
			let answer;
			try {
				answer = parseEventFromResult(await client.callWith({ signal }, 'event.from', ['task'], token, eventTimeoutS));
			} catch (e) {
				// Too far behind, or a new session (re-login, new master) that may not know the
				// token: read the task afresh from a new token.
				if (!isXapiError(e, XapiCode.EVENTS_LOST) && client.sessionRef === session) throw e;
				session = client.sessionRef;
				token = await takeToken(client, task, signal);
				outcome = await read();
				continue;
			}
			token = answer.token;
			for (const event of answer.events) {
				if (event.ref !== task || outcome !== undefined) continue;
				if (event.operation === 'del') {
					throw new XapiError(XapiCode.HANDLE_INVALID, ['task', task], { call: 'event.from' });
				}
				outcome = observe(parseTaskState(event.snapshot, task));
			}
		}
		return outcome.value;
	} catch (e) {
		if (signal?.aborted) {
			// The caller gave up: ask the pool to stop the work too. A task that cannot be
			// cancelled (or already finished) is simply left to end on its own.
			await client.call('task.cancel', task).catch(() => undefined);
			throw signal.reason;
		}
		throw e;
	}
}

async function takeToken(client: XapiClient, task: Ref, signal: AbortSignal | undefined): Promise<string | undefined> {
	try {
		return String(await client.callWith({ signal }, 'event.inject', 'task', task));
	} catch (e) {
		if (isXapiError(e, XapiCode.MESSAGE_METHOD_UNKNOWN)) return undefined;
		throw e;
	}
}
