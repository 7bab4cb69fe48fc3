/**
 * Leadership per pool among Haven instances sharing one database: a lease row taken with an
 * atomic upsert that only succeeds while the row is free, expired or already ours. The
 * database's clock decides expiry, so instances with skewed clocks still agree.
 */
import type { DbExecutor } from './db';

/** Takes or renews the lease for `ttlMs`; true when `owner` holds it afterwards. */
export async function acquireLease(db: DbExecutor, poolId: string, owner: string, ttlMs: number): Promise<boolean> {
	const rows = await db.query<{ owner: string }>(
		`insert into collector_leases (pool_id, owner, acquired_at, expires_at)
		 values ($1, $2, now(), now() + ($3::double precision * interval '1 millisecond'))
		 on conflict (pool_id) do update
		    set owner = excluded.owner,
		        acquired_at = case when collector_leases.owner = excluded.owner then collector_leases.acquired_at else now() end,
		        expires_at = excluded.expires_at
		  where collector_leases.expires_at < now() or collector_leases.owner = excluded.owner
		 returning owner`,
		[poolId, owner, ttlMs]
	);
	return rows[0]?.owner === owner;
}

/** Whether `owner` holds an unexpired lease; use inside the write transaction to fence writes. */
export async function holdsLease(db: DbExecutor, poolId: string, owner: string): Promise<boolean> {
	const rows = await db.query(`select 1 from collector_leases where pool_id = $1 and owner = $2 and expires_at > now()`, [poolId, owner]);
	return rows.length > 0;
}

/** Gives the lease up at once (a clean shutdown), so another instance need not wait for expiry. */
export async function releaseLease(db: DbExecutor, poolId: string, owner: string): Promise<void> {
	await db.query('delete from collector_leases where pool_id = $1 and owner = $2', [poolId, owner]);
}

export async function leaseHolder(db: DbExecutor, poolId: string): Promise<{ owner: string; expiresAt: Date } | undefined> {
	const rows = await db.query<{ owner: string; expires_at: Date }>(
		'select owner, expires_at from collector_leases where pool_id = $1 and expires_at > now()',
		[poolId]
	);
	const row = rows[0];
	return row ? { owner: row.owner, expiresAt: row.expires_at } : undefined;
}
