/**
 * The wizard's browser-side state against the real planner API (the worker's module, called
 * in-process): the maximum follows edits, stale answers are never shown, non-agile VMs stay
 * unprotected, bulk edits skip them, and the request matches what the server expects.
 */
import { describe, expect, it } from 'vitest';
import { WizardState } from '../../../../src/lib/components/wizard/state.svelte';
import { createPlannerApi } from '../../../../src/lib/planner/worker-api';
import { RequestGate } from '../../../../src/lib/planner/request-gate';
import type { PlannerConnection } from '../../../../src/lib/planner-client';
import { smallScenario } from '../../../../src/lib/xapi/sim/scenarios/small';

function plannerInProcess() {
	const api = createPlannerApi();
	const gate = new RequestGate();
	const planner = {
		api,
		issue: (kind: string) => gate.issue(kind),
		isCurrent: (kind: string, answer: { requestId: number; generation: number; stale: boolean }) => gate.isCurrent(kind, answer),
		get generation() {
			return gate.generation;
		}
	};
	return { planner: planner as unknown as PlannerConnection, api, gate };
}

async function setup() {
	const snapshot = smallScenario().snapshot;
	const { planner, api, gate } = plannerInProcess();
	const loaded = api.load(snapshot);
	gate.generation = loaded.generation;
	const wizard = new WizardState(snapshot, planner);
	const refOf = (name: string) => wizard.rows.find((r) => r.name === name)?.vm ?? '';
	return { wizard, refOf };
}

async function settled(wizard: WizardState): Promise<void> {
	for (let i = 0; i < 200 && wizard.computing; i++) await new Promise((r) => setTimeout(r, 5));
	expect(wizard.computing).toBe(false);
}

describe('WizardState', () => {
	it('starts from the pool, with the only usable heartbeat SR chosen and the maximum stale until asked', async () => {
		const { wizard } = await setup();
		expect(wizard.mode).toBe('enable');
		expect(wizard.srOptions.find((o) => o.ref === wizard.sr)?.name).toBe('iSCSI shared storage');
		expect(wizard.analysis).toBeNull();
		expect(wizard.canLeavePriorities).toBe(false);
		wizard.replan();
		expect(wizard.computing).toBe(true);
		await settled(wizard);
		expect(wizard.analysis?.max).toBe(3);
		// Untouched, the tolerance follows the maximum, capped below the number of hosts.
		expect(wizard.ntol).toBe(2);
	});

	it('follows every edit, showing only the newest answer', async () => {
		const { wizard, refOf } = await setup();
		wizard.replan();
		await settled(wizard);
		wizard.setLevel(refOf('db-primary'), 'high');
		wizard.setLevel(refOf('db-replica'), 'high');
		wizard.setLevel(refOf('mail'), 'medium');
		wizard.setLevel(refOf('app-1'), 'low');
		expect(wizard.computing).toBe(true);
		// The old figure stays, marked stale, until the newest answer arrives.
		expect(wizard.analysis?.max).toBe(3);
		expect(wizard.canLeavePriorities).toBe(false);
		wizard.setLevel(refOf('app-2'), 'low');
		await settled(wizard);
		expect(wizard.analysis?.max).toBe(1);
		expect(wizard.ntol).toBe(1);
		expect(wizard.canLeavePriorities).toBe(true);
	});

	it('explains overcommitment with the planner fixes, and applies one', async () => {
		const { wizard, refOf } = await setup();
		for (const name of ['db-primary', 'db-replica', 'mail', 'app-1', 'app-2']) wizard.setLevel(refOf(name), 'high');
		await settled(wizard);
		wizard.setNtol(2);
		expect(wizard.overcommitted).toBe(true);
		expect(wizard.canLeavePriorities).toBe(false);
		for (let i = 0; i < 400 && (wizard.fixesComputing || !wizard.fixes); i++) await new Promise((r) => setTimeout(r, 5));
		const fix = wizard.fixes?.fixes.find((f) => f.kind === 'priorities');
		expect(fix).toBeDefined();
		if (fix?.kind !== 'priorities') return;
		wizard.applyPriorityFix(fix.changes);
		await settled(wizard);
		expect(wizard.analysis?.max).toBeGreaterThanOrEqual(2);
		expect(wizard.overcommitted).toBe(false);
	});

	it('never protects a non-agile VM, alone or in a bulk edit, and says why', async () => {
		const { wizard, refOf } = await setup();
		wizard.replan();
		await settled(wizard);
		const buildCache = refOf('build-cache');
		expect(wizard.canProtect(buildCache)).toBe(false);
		expect(wizard.whyNotAgile(buildCache)).toContain('Local storage on xcp-host-2');
		wizard.setLevel(buildCache, 'high');
		expect(wizard.level(buildCache)).toBe('none');
		wizard.selected = [refOf('web-1'), buildCache, refOf('backup-agent')];
		expect(wizard.setLevelForSelected('medium').sort()).toEqual(['backup-agent', 'build-cache']);
		expect(wizard.level(refOf('web-1'))).toBe('medium');
		wizard.setLevelForSelected('best-effort');
		expect(wizard.level(buildCache)).toBe('best-effort');
	});

	it('sends the whole configuration and the baseline it started from', async () => {
		const { wizard, refOf } = await setup();
		wizard.setLevel(refOf('ldap'), 'low');
		wizard.setOrder(refOf('ldap'), 4);
		wizard.setDelay(refOf('ldap'), 20);
		const ldap = wizard.vmList().find((v) => v.vm === refOf('ldap'));
		expect(ldap).toEqual({ vm: refOf('ldap'), priority: 'restart', order: 4, startDelay: 20 });
		expect(wizard.vmList()).toHaveLength(wizard.rows.length);
		// Only the changed VM is sent as wanted; the baseline lists every VM shown.
		expect(wizard.changes()).toEqual([ldap]);
		const baseline = wizard.baseline();
		expect(baseline.haEnabled).toBe(false);
		expect(baseline.vms.find((v) => v.vm === refOf('ldap'))).toEqual({ vm: refOf('ldap'), priority: '', order: 0, startDelay: 0 });
	});
});
