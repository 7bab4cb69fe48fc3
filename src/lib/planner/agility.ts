import { XapiCode } from '../xapi/codes';
import { NULL_REF, type Ref, type Snapshot } from '../xapi/records';
import type { Agility } from './types';

/**
 * Agility as `Agility.vm_assert_agile` decides it (xen-api ocaml/xapi/agility.ml), first failing
 * cause wins, in xapi's order: vGPU, USB, (PCI pass-through), each VBD's SR, then each VIF's
 * network and SR-IOV. "Shared" means: on every *enabled* host (not only live ones).
 */
export class AgilityChecker {
	readonly #snapshot: Snapshot;
	readonly #enabledHosts: Ref[];
	readonly #srShared = new Map<Ref, boolean>();
	readonly #networkShared = new Map<Ref, boolean>();

	constructor(snapshot: Snapshot) {
		this.#snapshot = snapshot;
		this.#enabledHosts = Object.entries(snapshot.host)
			.filter(([, h]) => h.enabled)
			.map(([ref]) => ref);
	}

	srProperlyShared(sr: Ref): boolean {
		const cached = this.#srShared.get(sr);
		if (cached !== undefined) return cached;
		const record = this.#snapshot.SR[sr];
		let ok = false;
		if (record?.shared) {
			const plugged = new Set<Ref>();
			for (const pbd of Object.values(this.#snapshot.PBD)) if (pbd.SR === sr && pbd.currently_attached) plugged.add(pbd.host);
			ok = this.#enabledHosts.every((h) => plugged.has(h));
		}
		this.#srShared.set(sr, ok);
		return ok;
	}

	networkProperlyShared(network: Ref): boolean {
		const cached = this.#networkShared.get(network);
		if (cached !== undefined) return cached;
		const withPif = new Set<Ref>();
		for (const pif of Object.values(this.#snapshot.PIF)) if (pif.network === network) withPif.add(pif.host);
		// A network with no PIF at all is host-internal: shared only if there is no enabled host.
		const ok = this.#enabledHosts.every((h) => withPif.has(h));
		this.#networkShared.set(network, ok);
		return ok;
	}

	check(vmRef: Ref): Agility {
		const vm = this.#snapshot.VM[vmRef];
		if (!vm) return { agile: false, code: XapiCode.HANDLE_INVALID, params: ['VM', vmRef] };
		if (vm.VGPUs.length > 0) return { agile: false, code: XapiCode.VM_HAS_VGPU, params: [vmRef] };
		if (vm.VUSBs.length > 0) return { agile: false, code: XapiCode.VM_HAS_VUSBS, params: [vmRef] };
		if (vm.attached_PCIs.length > 0) return { agile: false, code: XapiCode.VM_HAS_PCI_ATTACHED, params: [vmRef] };
		for (const vbdRef of vm.VBDs) {
			const vbd = this.#snapshot.VBD[vbdRef];
			if (!vbd || vbd.empty || vbd.VDI === NULL_REF) continue;
			const vdi = this.#snapshot.VDI[vbd.VDI];
			if (!vdi) continue;
			if (!this.srProperlyShared(vdi.SR)) return { agile: false, code: XapiCode.HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED, params: [vdi.SR] };
		}
		for (const vifRef of vm.VIFs) {
			const vif = this.#snapshot.VIF[vifRef];
			if (!vif) continue;
			if (vif.network !== NULL_REF && !this.networkProperlyShared(vif.network))
				return { agile: false, code: XapiCode.HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED, params: [vif.network] };
			if (vif.reserved_pci && vif.reserved_pci !== NULL_REF) return { agile: false, code: XapiCode.VM_HAS_SRIOV_VIF, params: [vmRef] };
		}
		return { agile: true };
	}

	/** Can the VM boot on this host at all (storage and networks reachable)? Used to pin non-agile VMs. */
	canBootOn(vmRef: Ref, host: Ref): boolean {
		const vm = this.#snapshot.VM[vmRef];
		if (!vm) return false;
		for (const vbdRef of vm.VBDs) {
			const vbd = this.#snapshot.VBD[vbdRef];
			if (!vbd || vbd.empty || vbd.VDI === NULL_REF) continue;
			const vdi = this.#snapshot.VDI[vbd.VDI];
			if (!vdi) continue;
			const attached = Object.values(this.#snapshot.PBD).some((p) => p.SR === vdi.SR && p.host === host && p.currently_attached);
			if (!attached) return false;
		}
		for (const vifRef of vm.VIFs) {
			const vif = this.#snapshot.VIF[vifRef];
			if (!vif || vif.network === NULL_REF) continue;
			const net = this.#snapshot.network[vif.network];
			const hasPif = Object.values(this.#snapshot.PIF).some((p) => p.network === vif.network && p.host === host);
			// A host-internal network (no PIFs) exists on every host.
			if (!hasPif && (net?.PIFs.length ?? 0) > 0) return false;
		}
		return true;
	}
}

/** Agility of one VM, with the XAPI error code of the first reason it is not agile. */
export function vmAgility(snapshot: Snapshot, vmRef: Ref): Agility {
	return new AgilityChecker(snapshot).check(vmRef);
}

/** Agility of every VM (templates and snapshots included; callers filter). */
export function allVmAgility(snapshot: Snapshot): Record<Ref, Agility> {
	const checker = new AgilityChecker(snapshot);
	const out: Record<Ref, Agility> = {};
	for (const ref of Object.keys(snapshot.VM)) out[ref] = checker.check(ref);
	return out;
}
