/**
 * What the server reports about an HA operation while it runs and after (shared by the
 * server's operations registry and the wizard page that polls it).
 */
export type OperationName = 'ha.enable' | 'ha.reconfigure' | 'ha.disable' | 'ha.restore';

export type StepStatus = 'pending' | 'running' | 'applied' | 'failed' | 'not-run';

export interface StepReport {
	label: string;
	/** The XAPI call (without arguments): what the pool's task list shows. */
	call: string;
	status: StepStatus;
	/** Task progress 0..1 while running. */
	progress: number;
	code?: string;
	message?: string;
}

export interface JobView {
	id: string;
	operation: OperationName;
	state: 'running' | 'succeeded' | 'failed';
	startedAt: string;
	finishedAt: string | null;
	steps: StepReport[];
	/** The failing step and the pool's answer, when state is failed. */
	error: { step: number; code: string; message: string } | null;
}

/** A refusal before anything changed, as the API answers it (4xx). */
export interface OperationRefusal {
	code: string;
	message: string;
	field?: string;
	details?: { differences?: { what: string; shown: string; now: string }[]; max?: number } & Record<string, unknown>;
}
