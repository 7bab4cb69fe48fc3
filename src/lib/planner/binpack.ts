/**
 * The toolstack's packing rule (xen-api ocaml/xapi/binpack.ml `biggest_fit_decreasing`), on
 * plain numeric arrays so the searches can run it millions of times.
 *
 * Items are taken in the order given (callers pass them already sorted by need descending,
 * ties in the toolstack's list order: a stable sort). Bins are stably sorted by free memory
 * descending; each item tries only the first (biggest) bin and is left out if it does not fit
 * there; the bin just used is re-inserted before the first bin with free memory <= its own,
 * so it goes before bins that now have equal free memory (binpack.ml `insert`).
 */

/** Scratch space reused between calls (the planner is single-threaded per worker). */
let scratch = new Int32Array(64);

function ensureScratch(n: number): Int32Array {
	if (scratch.length < n) scratch = new Int32Array(Math.max(n, scratch.length * 2));
	return scratch;
}

/**
 * Packs `items` (ids, in packing order) with sizes `size[id]` into the bins listed in `bins`
 * (ids in the toolstack's host-list order), subtracting from `free[bin]` in place.
 * Calls `onPlace(item, bin)` for each placement and returns the list of items left out
 * (empty when every item was placed). With `stopAtFirstMiss` it returns at the first miss.
 */
export function packBiggestFit(
	items: ArrayLike<number>,
	size: ArrayLike<number>,
	bins: ArrayLike<number>,
	free: Float64Array,
	onPlace: ((item: number, bin: number) => void) | null,
	stopAtFirstMiss = false
): number[] {
	const m = bins.length;
	const order = ensureScratch(m);
	for (let i = 0; i < m; i++) order[i] = bins[i] as number;
	// Stable insertion sort by free descending (m is a host count: small).
	for (let i = 1; i < m; i++) {
		const b = order[i] as number;
		const fb = free[b] as number;
		let j = i - 1;
		while (j >= 0 && (free[order[j] as number] as number) < fb) {
			order[j + 1] = order[j] as number;
			j--;
		}
		order[j + 1] = b;
	}
	const missed: number[] = [];
	for (let k = 0; k < items.length; k++) {
		const item = items[k] as number;
		const s = size[item] as number;
		if (m === 0) {
			missed.push(item);
			if (stopAtFirstMiss) return missed;
			continue;
		}
		const first = order[0] as number;
		const remaining = (free[first] as number) - s;
		if (remaining < 0) {
			missed.push(item);
			if (stopAtFirstMiss) return missed;
			continue;
		}
		free[first] = remaining;
		onPlace?.(item, first);
		// Re-insert: move down past bins with strictly more free memory.
		let j = 1;
		while (j < m && (free[order[j] as number] as number) > remaining) {
			order[j - 1] = order[j] as number;
			j++;
		}
		order[j - 1] = first;
	}
	return missed;
}
