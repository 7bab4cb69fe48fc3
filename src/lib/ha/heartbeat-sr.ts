/**
 * Which SRs can hold the HA heartbeat (statefile + metadata volume), decided from a snapshot
 * the way xapi's Xha_statefile.assert_sr_can_host_statefile does, with every reason named so
 * the wizard can say why an SR is refused. The pool keeps the last word: the server also asks
 * `SR.assert_can_host_ha_statefile` before enabling.
 */
import { describeXapiError } from '../xapi/describe';
import { XapiCode } from '../xapi/codes';
import type { Ref, Snapshot } from '../xapi/records';

const MiB = 1024 * 1024;
/** The seed's minimum: a 4 MiB heartbeat volume plus a 256 MiB metadata volume, with slack. */
export const MIN_HEARTBEAT_SR_FREE = 356 * MiB;
/** SM backends that can host the statefile (the toolstack's list). */
export const HEARTBEAT_SR_TYPES: readonly string[] = ['lvmoiscsi', 'lvmohba', 'lvmofcoe', 'nfs'];
/** Storage-array adapters that cannot: the seed says to carve an iSCSI LUN on the array instead. */
const ARRAY_ADAPTERS: Record<string, string> = { netapp: 'NetApp', equal: 'EqualLogic' };

export type HeartbeatRefusal =
	| { kind: 'unsupported-type'; type: string; array?: string }
	| { kind: 'not-shared' }
	| { kind: 'not-attached'; hosts: { ref: Ref; name: string }[] }
	| { kind: 'too-small'; free: number; needed: number };

export interface HeartbeatSrOption {
	ref: Ref;
	name: string;
	description: string;
	type: string;
	shared: boolean;
	free: number;
	/** The pool already holds a statefile and metadata volume there (reused on enable). */
	hasHaVolumes: boolean;
	refusals: HeartbeatRefusal[];
	qualifies: boolean;
}

/** One plain sentence per refusal; the toolstack's own words for an unsupported backend. */
export function describeRefusal(r: HeartbeatRefusal): string {
	switch (r.kind) {
		case 'unsupported-type':
			return r.array
				? `${describeXapiError(XapiCode.SR_OPERATION_NOT_SUPPORTED)}. ${r.array} SRs cannot hold the heartbeat: provision an iSCSI LUN on the array by hand, add it as an iSCSI SR and use that.`
				: describeXapiError(XapiCode.SR_OPERATION_NOT_SUPPORTED);
		case 'not-shared':
			return 'Not shared: the heartbeat needs storage every host uses at once.';
		case 'not-attached':
			return `Not attached on ${r.hosts.map((h) => h.name).join(', ')}: every host must reach the heartbeat SR.`;
		case 'too-small':
			return `Less than 356 MiB free (${Math.floor(r.free / MiB)} MiB free).`;
	}
}

/** Every SR of the pool (ISO libraries and local disks included) with why it cannot be chosen. */
export function heartbeatSrOptions(snapshot: Pick<Snapshot, 'SR' | 'PBD' | 'host' | 'VDI'>): HeartbeatSrOption[] {
	const hosts = Object.entries(snapshot.host);
	const options = Object.entries(snapshot.SR).map(([ref, sr]): HeartbeatSrOption => {
		const refusals: HeartbeatRefusal[] = [];
		const type = String(sr.type);
		if (!HEARTBEAT_SR_TYPES.includes(type)) {
			const array = ARRAY_ADAPTERS[type.toLowerCase()];
			refusals.push(array ? { kind: 'unsupported-type', type, array } : { kind: 'unsupported-type', type });
		}
		if (!sr.shared) refusals.push({ kind: 'not-shared' });
		const attachedOn = new Set(
			(sr.PBDs ?? [])
				.map((p) => snapshot.PBD[p])
				.filter((p) => p !== undefined && p.currently_attached)
				.map((p) => p?.host)
		);
		const missing = hosts.filter(([h]) => !attachedOn.has(h)).map(([h, host]) => ({ ref: h, name: host.name_label }));
		if (missing.length > 0) refusals.push({ kind: 'not-attached', hosts: missing });
		const vdiTypes = new Set((sr.VDIs ?? []).map((v) => snapshot.VDI[v]?.type));
		const hasHaVolumes = vdiTypes.has('ha_statefile') && vdiTypes.has('redo_log');
		const free = Math.max(0, Number(sr.physical_size) - Number(sr.physical_utilisation));
		// Volumes left by an earlier enable are reused, so no new space is needed then.
		if (!hasHaVolumes && free < MIN_HEARTBEAT_SR_FREE) refusals.push({ kind: 'too-small', free, needed: MIN_HEARTBEAT_SR_FREE });
		return {
			ref,
			name: sr.name_label,
			description: sr.name_description,
			type,
			shared: sr.shared,
			free,
			hasHaVolumes,
			refusals,
			qualifies: refusals.length === 0
		};
	});
	// Usable ones first, then by name, so the choice is at the top.
	return options.sort((a, b) => Number(b.qualifies) - Number(a.qualifies) || a.name.localeCompare(b.name));
}
