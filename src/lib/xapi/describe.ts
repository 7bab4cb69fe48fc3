import { XapiCode } from './codes';

/** Plain words for XAPI failures users meet; the code itself is always shown beside them. */
const TEXT: Partial<Record<string, (params: readonly string[]) => string>> = {
	[XapiCode.SESSION_AUTHENTICATION_FAILED]: () => 'The pool refused the user name or password.',
	[XapiCode.SESSION_INVALID]: () => 'The pool session has ended; log in again.',
	[XapiCode.HOST_IS_SLAVE]: (p) => `This host is not the pool master; the master is ${p[0] ?? 'elsewhere'}.`,
	[XapiCode.RBAC_PERMISSION_DENIED]: (p) => `Your role on the pool does not allow ${p[0] ?? 'this operation'}.`,
	[XapiCode.LICENCE_RESTRICTION]: () => 'The pool licence does not allow high availability (it needs a licence with HA on every host).',
	[XapiCode.HA_IS_ENABLED]: () => 'This is not allowed while HA is enabled.',
	[XapiCode.HA_NOT_ENABLED]: () => 'HA is not enabled on this pool.',
	[XapiCode.HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN]: () => 'The pool cannot guarantee that many host failures with the current VMs and priorities.',
	[XapiCode.HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED]: (p) => `A disk is on storage that not every host can reach${p[0] ? ` (${p[0]})` : ''}.`,
	[XapiCode.HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED]: (p) => `A network interface is on a network not every host has${p[0] ? ` (${p[0]})` : ''}.`,
	[XapiCode.VM_HAS_VGPU]: () => 'The VM uses a virtual GPU, which ties it to its host.',
	[XapiCode.VM_HAS_VUSBS]: () => 'The VM uses a passed-through USB device, which ties it to its host.',
	[XapiCode.VM_HAS_PCI_ATTACHED]: () => 'The VM has a passed-through PCI device, which ties it to its host.',
	[XapiCode.VM_HAS_SRIOV_VIF]: () => 'The VM uses an SR-IOV network function, which ties it to its host.',
	[XapiCode.SR_OPERATION_NOT_SUPPORTED]: () => "The SR backend does not support the operation (check the SR's allowed operations)",
	[XapiCode.SR_NO_PBDS]: () => 'The SR is not connected to every host.',
	[XapiCode.HANDLE_INVALID]: (p) => `The pool no longer has that ${p[0] ?? 'object'}.`,
	[XapiCode.MESSAGE_METHOD_UNKNOWN]: (p) => `The pool does not know the call ${p[0] ?? ''}.`.trim()
};

export function describeXapiError(code: string, params: readonly string[] = []): string {
	const text = TEXT[code];
	return text ? text(params) : `The pool answered ${code}${params.length > 0 ? ` (${params.join(', ')})` : ''}.`;
}
