const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** Memory as admins read it: GiB with one decimal when needed, MiB below 1 GiB. */
export function formatMemory(bytes: number): string {
	if (!Number.isFinite(bytes)) return '—';
	if (Math.abs(bytes) >= GiB) {
		const g = bytes / GiB;
		return `${Number.isInteger(Math.round(g * 10) / 10) ? Math.round(g) : g.toFixed(1)} GiB`;
	}
	return `${Math.round(bytes / MiB)} MiB`;
}

export function formatPercent(part: number, whole: number): string {
	if (whole <= 0) return '0%';
	return `${Math.round((part / whole) * 100)}%`;
}
