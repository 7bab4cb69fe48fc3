/**
 * Page-side bookkeeping: issue increasing request ids and accept an answer only if it is the
 * latest issued for its kind and for the current snapshot generation.
 */
export class RequestGate {
	#next = 1;
	readonly #issued = new Map<string, number>();
	generation = 0;

	issue(kind: string): number {
		const id = this.#next++;
		this.#issued.set(kind, id);
		return id;
	}

	isCurrent(kind: string, answer: { requestId: number; generation: number; stale: boolean }): boolean {
		return !answer.stale && this.#issued.get(kind) === answer.requestId && answer.generation === this.generation;
	}
}
