import * as Comlink from 'comlink';
import { RequestGate } from '$lib/planner/request-gate';
import type { PlannerApi } from '$lib/planner/worker-api';

/**
 * The planner running in a Web Worker, for pages. Each kind of question gets increasing request
 * ids; `isCurrent` accepts an answer only if it is the newest asked of its kind, on the snapshot
 * generation last loaded, so a stale answer is never shown as current.
 */
export class PlannerConnection extends RequestGate {
	readonly api: Comlink.Remote<PlannerApi>;
	readonly #worker: Worker;

	constructor() {
		super();
		this.#worker = new Worker(new URL('./planner/worker.ts', import.meta.url), { type: 'module' });
		this.api = Comlink.wrap<PlannerApi>(this.#worker);
	}

	/** Loads a snapshot (validated in the worker); later answers refer to it. */
	async load(snapshot: unknown) {
		const answer = await this.api.load(snapshot);
		this.generation = answer.generation;
		return answer;
	}

	terminate(): void {
		this.#worker.terminate();
	}
}
