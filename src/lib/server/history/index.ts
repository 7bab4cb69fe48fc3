/**
 * HA history: the audit log, the per-pool collector, incidents and the tolerance trend.
 * Server-only (under $lib/server): it holds the database connection.
 */
export { openDb, openDbFromEnv, defaultDataDir, type Db, type DbExecutor, type OpenDbOptions } from './db';
export { migrate, MIGRATIONS, type Migration } from './migrations';
export { startInstance, type HavenInstance, type InstanceOptions } from './instance';
export {
	createAuditLog,
	queryAudit,
	exportAuditCsv,
	auditToCsv,
	redactSecrets,
	AUDIT_OUTCOMES,
	type AuditLog,
	type AuditEntry,
	type AuditFilter,
	type AuditOutcome,
	type AuditBeginInput,
	type AuditEndInput
} from './audit';
export { toCsv, csvCell } from './csv';
export { acquireLease, releaseLease, holdsLease, leaseHolder } from './lease';
export { startCollector, COLLECTED_CLASSES, type Collector, type CollectorOptions } from './collector';
export {
	listIncidents,
	getIncident,
	listPoolEvents,
	toleranceTrend,
	type IncidentSummary,
	type IncidentDetail,
	type TimelineEntry,
	type TimelineKind,
	type TimelineVm,
	type RestartGroup,
	type PoolEventEntry,
	type TolerancePoint
} from './queries';
export { HistoryInputError } from './validate';
