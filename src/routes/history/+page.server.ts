import { error } from '@sveltejs/kit';
import * as v from 'valibot';
import { appHistory } from '$lib/server/app-history';
import { requirePageSession } from '$lib/server/guard';
import { listIncidents, toleranceTrend } from '$lib/server/history';
import type { PageServerLoad } from './$types';

const Days = v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(365));

export const load: PageServerLoad = async ({ locals, url }) => {
	const session = requirePageSession(locals);
	const rawDays = url.searchParams.get('days') ?? '7';
	const days = v.safeParse(Days, rawDays);
	if (!days.success) error(400, { message: `days must be a whole number from 1 to 365, got "${rawDays}"`, code: 'INVALID_INPUT' });
	const { db } = await appHistory();
	const to = new Date();
	const from = new Date(to.getTime() - days.output * 86_400_000);
	const [incidents, trend] = await Promise.all([
		listIncidents(db, session.poolId, { limit: 50 }),
		// About 300 buckets across the chart, each showing its worst moment.
		toleranceTrend(db, session.poolId, { from, to, bucketMs: Math.max(1000, Math.floor((to.getTime() - from.getTime()) / 300)) })
	]);
	return { incidents, trend, from, to, days: days.output, poolName: session.poolName };
};
