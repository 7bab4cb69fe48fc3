/**
 * XAPI datetimes come as `20261125T16:00:00Z` (ISO 8601 basic date, extended time); the
 * epoch (`19700101T00:00:00Z`) means "not set" (a task not finished yet).
 */
export function parseXapiTime(value: string): number | null {
	const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:\.\d+)?Z?$/.exec(value.trim());
	if (!m) {
		const t = Date.parse(value);
		return Number.isFinite(t) && t > 0 ? t : null;
	}
	const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
	return t > 0 ? t : null;
}

/** A timestamp as the logs show it (UTC, seconds), or an em dash when unset. */
export function formatXapiTime(value: string): string {
	const t = parseXapiTime(value);
	if (t === null) return '—';
	return new Date(t).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** Message priorities as xapi defines them: 1 is the most severe. */
export function messageSeverity(priority: number): 'critical' | 'major' | 'warning' | 'minor' | 'info' {
	if (priority <= 1) return 'critical';
	if (priority === 2) return 'major';
	if (priority === 3) return 'warning';
	if (priority === 4) return 'minor';
	return 'info';
}
