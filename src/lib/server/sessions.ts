import { randomBytes } from 'node:crypto';
import { XapiClient, type TransportFactory } from '$lib/xapi/client';
import { autoTransport } from '$lib/xapi/transport';
import { pinFor } from './pins';
import { configuredCa, verifiedFetch, type TrustOptions } from './tls';
import type { PoolTarget } from './config';
import { log } from './log';
import { canConfigureHa, roleFromPool, type HavenRole } from './roles';

export const SESSION_COOKIE = 'haven_session';

/** Expiry rules: idle and absolute, so a forgotten tab does not hold a pool session forever. */
export const SESSION_IDLE_MS = Number(process.env['HAVEN_SESSION_IDLE_MS'] ?? 30 * 60_000);
export const SESSION_ABSOLUTE_MS = Number(process.env['HAVEN_SESSION_ABSOLUTE_MS'] ?? 12 * 3600_000);

/** What pages and endpoints may know of a session: no XAPI ref, no password. */
export interface SessionView {
	id: string;
	user: string;
	role: HavenRole;
	canConfigure: boolean;
	poolId: string;
	poolName: string;
	poolAddress: string;
	createdAt: number;
}

interface HavenSession extends SessionView {
	client: XapiClient;
	lastSeenAt: number;
	/** Closes the session's live feed, if one was opened. */
	onClose: ((reason: 'logout' | 'expired') => void)[];
}

const sessions = new Map<string, HavenSession>();

function toView(s: HavenSession): SessionView {
	return {
		id: s.id,
		user: s.user,
		role: s.role,
		canConfigure: s.canConfigure,
		poolId: s.poolId,
		poolName: s.poolName,
		poolAddress: s.poolAddress,
		createdAt: s.createdAt
	};
}

const CALL_TIMEOUT_MS = 60_000;

/**
 * HTTPS endpoints are verified against the configured CA or a pinned certificate (per host:port,
 * so each pool member needs its own pin unless a CA signs them all); plain HTTP is only ever
 * the simulated pool on loopback.
 */
export function transportFor(extraPin?: { hostPort: string; pin: NonNullable<TrustOptions['pin']> }): TransportFactory {
	return (url) => {
		if (url.protocol !== 'https:') return autoTransport(url.toString(), { timeoutMs: CALL_TIMEOUT_MS });
		const pin = extraPin?.hostPort === url.host ? extraPin.pin : pinFor(url.host);
		return autoTransport(url.toString(), { timeoutMs: CALL_TIMEOUT_MS, fetch: verifiedFetch({ ca: configuredCa(), pin }) });
	};
}

/**
 * Logs in to the pool and opens a Haven session. XAPI's own refusal (an `XapiError`) is passed
 * up unchanged so the form can show it.
 */
export async function openSession(
	pool: PoolTarget,
	user: string,
	password: string,
	options: { pin?: { hostPort: string; pin: NonNullable<TrustOptions['pin']> } } = {}
): Promise<SessionView> {
	// The password stays here, server-side, so the client can log in again after SESSION_INVALID
	// or a master failover without asking the user.
	const client = new XapiClient({
		address: pool.address,
		originator: 'haven',
		transport: transportFor(options.pin),
		credentials: () => ({ user, password }),
		onMasterChange: (url) => log.warn({ user, pool: pool.id, master: url.host }, 'pool master changed; reconnected')
	});
	await client.login(user, password);
	let role: HavenRole;
	try {
		role = await roleFromPool(client);
	} catch (e) {
		await client.logout().catch(() => undefined);
		throw e;
	}
	const now = Date.now();
	const session: HavenSession = {
		id: randomBytes(32).toString('base64url'),
		user,
		role,
		canConfigure: canConfigureHa(role),
		poolId: pool.id,
		poolName: pool.name,
		poolAddress: pool.address,
		createdAt: now,
		lastSeenAt: now,
		client,
		onClose: []
	};
	sessions.set(session.id, session);
	log.info({ user, pool: pool.id, role }, 'session opened');
	return toView(session);
}

function expired(s: HavenSession, now: number): boolean {
	return now - s.lastSeenAt > SESSION_IDLE_MS || now - s.createdAt > SESSION_ABSOLUTE_MS;
}

/** The live session for a cookie value, touching its idle timer; expired ones are closed. */
export function findSession(id: string | undefined): SessionView | null {
	if (!id) return null;
	const s = sessions.get(id);
	if (!s) return null;
	const now = Date.now();
	if (expired(s, now)) {
		void closeSession(id, 'expired');
		return null;
	}
	s.lastSeenAt = now;
	return toView(s);
}

/** The pool client behind a session: server-only, for loads and endpoints. */
export function clientFor(view: SessionView): XapiClient {
	const s = sessions.get(view.id);
	if (!s) throw new Error('session is closed');
	return s.client;
}

/** Registers cleanup (a live feed, a watcher) to run when the session ends. */
export function onSessionClose(view: SessionView, close: (reason: 'logout' | 'expired') => void): void {
	sessions.get(view.id)?.onClose.push(close);
}

/** Ends the Haven session and logs its XAPI session out on the pool. */
export async function closeSession(id: string, reason: 'logout' | 'expired'): Promise<void> {
	const s = sessions.get(id);
	if (!s) return;
	sessions.delete(id);
	for (const close of s.onClose) close(reason);
	try {
		await s.client.logout();
		log.info({ user: s.user, pool: s.poolId, reason }, 'session closed');
	} catch (e) {
		// The pool may already have dropped it (restart, failover): the Haven session is gone anyway.
		log.warn({ user: s.user, pool: s.poolId, reason, err: e instanceof Error ? e.message : String(e) }, 'XAPI logout failed');
	}
}

/** Closes every expired session; run periodically so abandoned sessions are logged out. */
export async function sweepExpiredSessions(now = Date.now()): Promise<number> {
	const stale = [...sessions.values()].filter((s) => expired(s, now));
	await Promise.all(stale.map((s) => closeSession(s.id, 'expired')));
	return stale.length;
}

/** Logs every session out of its pool (server shutdown: the sessions live in this process only). */
export async function closeAllSessions(): Promise<void> {
	await Promise.all([...sessions.keys()].map((id) => closeSession(id, 'expired')));
}

export function openSessionCount(): number {
	return sessions.size;
}
