/**
 * Exact bin packing feasibility by branch and bound: can every item go into some bin without
 * exceeding its free memory? Answers the question the greedy rule cannot: "is there any
 * placement at all?" when biggest-fit-decreasing leaves VMs out.
 *
 * Items are branched largest first; bins with equal remaining space are interchangeable, so
 * only one of them is tried per item (symmetry); a branch is cut when the space still usable
 * by the remaining items (bins with room for at least the smallest of them) is below their
 * total. A node budget turns an intractable instance into `undefined` rather than a hang.
 */
export interface PackingResult {
	/** true / false when decided; undefined when the node budget ran out. */
	exists: boolean | undefined;
	/** Bin index per item (input order) when a placement exists. */
	assignment: number[] | null;
	nodes: number;
}

export function exactPackingExists(items: readonly number[], bins: readonly number[], opts: { nodeLimit?: number } = {}): PackingResult {
	const nodeLimit = opts.nodeLimit ?? 2_000_000;
	const order = items.map((_, i) => i).sort((a, b) => (items[b] as number) - (items[a] as number));
	const sizes = order.map((i) => items[i] as number);
	const n = sizes.length;
	const suffix = new Float64Array(n + 1);
	for (let i = n - 1; i >= 0; i--) suffix[i] = (suffix[i + 1] as number) + (sizes[i] as number);
	const room = bins.map((b) => Math.max(0, b));
	const chosen = new Int32Array(n);
	let nodes = 0;
	let aborted = false;
	if (n === 0) return { exists: true, assignment: [], nodes: 0 };
	if ((sizes[0] as number) > Math.max(0, ...room)) return { exists: false, assignment: null, nodes: 0 };

	const solve = (k: number): boolean => {
		if (k === n) return true;
		if (++nodes > nodeLimit) {
			aborted = true;
			return false;
		}
		const s = sizes[k] as number;
		const smallest = sizes[n - 1] as number;
		let usable = 0;
		for (const r of room) if (r >= smallest) usable += r;
		if (usable < (suffix[k] as number)) return false;
		const tried = new Set<number>();
		for (let b = 0; b < room.length; b++) {
			const r = room[b] as number;
			if (r < s || tried.has(r)) continue;
			tried.add(r);
			room[b] = r - s;
			chosen[k] = b;
			if (solve(k + 1)) return true;
			room[b] = r;
			if (aborted) return false;
		}
		return false;
	};
	const found = solve(0);
	if (aborted) return { exists: undefined, assignment: null, nodes };
	if (!found) return { exists: false, assignment: null, nodes };
	const assignment = new Array<number>(n);
	order.forEach((item, k) => (assignment[item] = chosen[k] as number));
	return { exists: true, assignment, nodes };
}
