/**
 * Restart priorities as consoles show them. XAPI stores `ha_restart_priority` ("restart",
 * "best-effort", "" or legacy "0".."3") plus an `order`; High / Medium / Low are "restart"
 * with ascending order groups.
 */
export type PriorityLevel = 'high' | 'medium' | 'low' | 'best-effort' | 'none';

export const PRIORITY_LABELS: Record<PriorityLevel, string> = {
	high: 'High',
	medium: 'Medium',
	low: 'Low',
	'best-effort': 'Best effort',
	none: 'Do not restart'
};

/** The order group each protected level is written with. */
export const LEVEL_ORDER: Record<'high' | 'medium' | 'low', number> = { high: 0, medium: 1, low: 2 };

export function isProtectedPriority(priority: string): boolean {
	return priority === 'restart' || /^[0-3]$/.test(priority);
}

/** The console level for a VM's stored priority and order. */
export function priorityLevel(priority: string, order: number): PriorityLevel {
	if (priority === 'best-effort') return 'best-effort';
	if (/^[0-3]$/.test(priority)) {
		// Legacy numeric priorities: 0 and 1 were the most urgent.
		const n = Number(priority);
		return n <= 1 ? 'high' : n === 2 ? 'medium' : 'low';
	}
	if (priority !== 'restart') return 'none';
	return order <= 0 ? 'high' : order === 1 ? 'medium' : 'low';
}

/** What to write back to XAPI for a chosen level. */
export function levelToXapi(level: PriorityLevel): { priority: string; order?: number } {
	if (level === 'best-effort') return { priority: 'best-effort' };
	if (level === 'none') return { priority: '' };
	return { priority: 'restart', order: LEVEL_ORDER[level] };
}
