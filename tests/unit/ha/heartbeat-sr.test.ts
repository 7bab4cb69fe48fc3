import { describe, expect, it } from 'vitest';
import { describeRefusal, heartbeatSrOptions, MIN_HEARTBEAT_SR_FREE } from '../../../src/lib/ha/heartbeat-sr';
import { mixedStorageScenario } from '../../../src/lib/xapi/sim/scenarios/mixed-storage';
import { smallScenario } from '../../../src/lib/xapi/sim/scenarios/small';

const byName = (name: string) => {
	const option = heartbeatSrOptions(mixedStorageScenario().snapshot).find((o) => o.name === name);
	if (!option) throw new Error(`no SR ${name}`);
	return option;
};
const texts = (name: string) => byName(name).refusals.map(describeRefusal);

describe('heartbeatSrOptions', () => {
	it('accepts shared iSCSI, Fibre Channel and NFS SRs attached everywhere with room, and lists them first', () => {
		const options = heartbeatSrOptions(mixedStorageScenario().snapshot);
		const usable = options.filter((o) => o.qualifies).map((o) => o.name);
		expect(usable.sort()).toEqual(['Fibre Channel SAN', 'NFS VM store', 'iSCSI heartbeat LUN']);
		expect(options.slice(0, 3).every((o) => o.qualifies)).toBe(true);
	});

	it('refuses an unsupported backend with the toolstack words', () => {
		expect(texts('ISO library')).toEqual(["The SR backend does not support the operation (check the SR's allowed operations)"]);
		expect(byName('ISO library').refusals[0]).toEqual({ kind: 'unsupported-type', type: 'iso' });
	});

	it('tells NetApp and EqualLogic users to provision an iSCSI LUN by hand', () => {
		for (const [name, vendor] of [
			['NetApp filer', 'NetApp'],
			['EqualLogic array', 'EqualLogic']
		] as const) {
			const [text] = texts(name);
			expect(text).toContain('The SR backend does not support the operation');
			expect(text).toContain(`${vendor} SRs cannot hold the heartbeat: provision an iSCSI LUN on the array by hand`);
		}
	});

	it('refuses an SR that is not shared', () => {
		expect(texts('iSCSI LUN not marked shared')).toEqual(['Not shared: the heartbeat needs storage every host uses at once.']);
	});

	it('names the host an SR is not attached on, with no PBD or an unplugged one', () => {
		expect(texts('iSCSI LUN not attached to mix-host-4')).toEqual(['Not attached on mix-host-4: every host must reach the heartbeat SR.']);
		expect(texts('NFS share unplugged on mix-host-2')).toEqual(['Not attached on mix-host-2: every host must reach the heartbeat SR.']);
	});

	it('gives every reason of a local SR: backend, not shared, missing hosts', () => {
		expect(byName('Local storage on mix-host-1').refusals.map((r) => r.kind)).toEqual(['unsupported-type', 'not-shared', 'not-attached']);
		expect(texts('Local storage on mix-host-1')[2]).toBe('Not attached on mix-host-2, mix-host-3, mix-host-4: every host must reach the heartbeat SR.');
	});

	it('refuses an SR with less than 356 MiB free, saying how much it has', () => {
		expect(texts('Tiny iSCSI LUN (1 GiB, 256 MiB free)')).toEqual(['Less than 356 MiB free (256 MiB free).']);
	});

	it('accepts a full SR that already holds the HA volumes from an earlier enable', () => {
		const snap = smallScenario().snapshot;
		const [srRef, sr] = Object.entries(snap.SR).find(([, s]) => s.type === 'lvmoiscsi') ?? [];
		if (!srRef || !sr) throw new Error('no iSCSI SR');
		sr.physical_utilisation = sr.physical_size - MIN_HEARTBEAT_SR_FREE + 1;
		expect(heartbeatSrOptions(snap).find((o) => o.ref === srRef)?.refusals.map((r) => r.kind)).toEqual(['too-small']);
		for (const type of ['ha_statefile', 'redo_log']) {
			const ref = `OpaqueRef:${type}`;
			snap.VDI[ref] = { uuid: type, name_label: type, name_description: '', SR: srRef, virtual_size: 1, physical_utilisation: 1, type, sharable: true, read_only: false, VBDs: [] };
			sr.VDIs.push(ref);
		}
		const option = heartbeatSrOptions(snap).find((o) => o.ref === srRef);
		expect(option?.qualifies).toBe(true);
		expect(option?.hasHaVolumes).toBe(true);
	});

	it('in the demo pool only the shared iSCSI SR qualifies', () => {
		const options = heartbeatSrOptions(smallScenario().snapshot);
		expect(options.filter((o) => o.qualifies).map((o) => o.name)).toEqual(['iSCSI shared storage']);
		expect(options).toHaveLength(5);
	});
});
