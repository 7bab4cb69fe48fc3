import { describe, expect, it } from 'vitest';
import { createPlannerApi, RequestGate } from '../../../src/lib/planner/worker-api';
import { tinyPool } from './helpers';

const pool = tinyPool([{ memGiB: 20 }, { memGiB: 20 }, { memGiB: 20 }], [{ host: 0, memGiB: 10 }, { host: 1, memGiB: 10 }, { host: 2, memGiB: 4 }]);

describe('planner worker API', () => {
	it('refuses to answer before a snapshot is loaded, and reports a bad snapshot as data', async () => {
		const api = createPlannerApi();
		const early = await api.analyse({}, 1);
		expect(early).toMatchObject({ requestId: 1, stale: false, error: { code: 'NO_SNAPSHOT' } });
		const bad = api.load({ VM: { 'OpaqueRef:x': { uuid: 'x', power_state: 'Running', memory_static_max: 'lots' } } });
		expect(bad.ok).toBe(false);
		if (!bad.ok) expect(bad.issues[0]?.path).toBe('VM.OpaqueRef:x.memory_static_max');
	});

	it('checks timeline options and names the bad one; a longer boot moves the finish', async () => {
		const api = createPlannerApi();
		api.load(JSON.parse(JSON.stringify(pool.snapshot)));
		const failed = [pool.hosts[0] as string];
		for (const [opts, field] of [
			[{ bootSeconds: 0 }, 'bootSeconds'],
			[{ bootSeconds: 2.5 }, 'bootSeconds'],
			[{ retries: -1 }, 'retries'],
			[{ bootSeconds: 30, colour: 'red' }, 'colour']
		] as const) {
			const answer = await api.restartTimeline(failed, {}, opts as never, 1);
			expect(answer).toMatchObject({ stale: false, error: { code: 'INVALID_INPUT' } });
			if ('error' in answer) expect(answer.error.message).toContain(field);
		}
		const quick = await api.restartTimeline(failed, {}, { bootSeconds: 30 }, 2);
		const slow = await api.restartTimeline(failed, {}, { bootSeconds: 90 }, 3);
		if (!('result' in quick) || !('result' in slow)) throw new Error('expected timelines');
		expect(slow.result.finishedAt - quick.result.finishedAt).toBe(60);
	});

	it('answers with the request id and generation; superseded requests come back stale', async () => {
		const api = createPlannerApi();
		const loaded = api.load(JSON.parse(JSON.stringify(pool.snapshot)));
		expect(loaded.ok).toBe(true);
		// Three edits in a row, as a user dragging a priority: only the last is computed.
		const answers = await Promise.all([
			api.analyse({ priorities: { [pool.vms[0] as string]: '' } }, 1),
			api.analyse({ priorities: { [pool.vms[1] as string]: '' } }, 2),
			api.analyse({ priorities: { [pool.vms[0] as string]: '', [pool.vms[1] as string]: '' } }, 3)
		]);
		expect(answers.map((a) => a.stale)).toEqual([true, true, false]);
		const last = answers[2];
		expect(last && 'result' in last ? last.result.ntol : -1).toBe(2);
	});

	it('a reload makes in-flight answers stale, and the gate accepts only the latest', async () => {
		const api = createPlannerApi();
		api.load(pool.snapshot);
		const gate = new RequestGate();
		gate.generation = 1;
		const id = gate.issue('analyse');
		const pending = api.analyse({}, id);
		const reloaded = api.load(pool.snapshot);
		gate.generation = reloaded.generation;
		const answer = await pending;
		expect(answer.stale).toBe(true);
		expect(gate.isCurrent('analyse', answer)).toBe(false);
		const id2 = gate.issue('analyse');
		const fresh = await api.analyse({}, id2);
		expect(gate.isCurrent('analyse', fresh)).toBe(true);
		expect(gate.isCurrent('analyse', { ...fresh, requestId: id })).toBe(false);
	});

	it('failover plan, timeline and fixes go through the same channel', async () => {
		const api = createPlannerApi();
		api.load(pool.snapshot);
		const plan = await api.failoverPlan([pool.hosts[2] as string], {}, 1);
		expect(plan.stale).toBe(false);
		expect('result' in plan && Object.keys(plan.result.placements)).toEqual([pool.vms[2]]);
		const timeline = await api.restartTimeline([pool.hosts[2] as string], {}, {}, 1);
		expect('result' in timeline && timeline.result.groups.length).toBe(1);
		const fixes = await api.suggestFixes(2, {}, 1);
		expect('result' in fixes && fixes.result.fixes.length).toBeGreaterThan(0);
	});
});
