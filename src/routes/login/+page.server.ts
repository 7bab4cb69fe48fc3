import { fail, redirect } from '@sveltejs/kit';
import * as v from 'valibot';
import { pools } from '$lib/server/config';
import { log } from '$lib/server/log';
import { failedLoginsPerUser, loginsPerAddress } from '$lib/server/rate-limit';
import { savePin } from '$lib/server/pins';
import { SESSION_ABSOLUTE_MS, SESSION_COOKIE, closeSession, openSession } from '$lib/server/sessions';
import { normaliseFingerprint, probeCertificate, untrustedCertificateIn } from '$lib/server/tls';
import { poolBaseUrl } from '$lib/xapi/address';
import { describeXapiError } from '$lib/xapi/describe';
import { XapiConnectionError, XapiError } from '$lib/xapi/errors';
import type { Actions, PageServerLoad } from './$types';

const LoginForm = v.object({
	pool: v.pipe(v.string('Pool address is required'), v.trim(), v.nonEmpty('Pool address is required'), v.maxLength(255, 'Pool address is too long')),
	user: v.pipe(v.string('User name is required'), v.trim(), v.nonEmpty('User name is required'), v.maxLength(255, 'User name is too long')),
	password: v.pipe(v.string('Password is required'), v.nonEmpty('Password is required'), v.maxLength(1024, 'Password is too long'))
});

export const load: PageServerLoad = ({ locals }) => {
	if (locals.session) redirect(303, '/pool');
	const configured = pools.list();
	return {
		pools: configured.map((p) => ({ name: p.name, address: p.address, embedded: p.embedded })),
		defaultPool: configured[0]?.address ?? ''
	};
};

export const actions: Actions = {
	default: async ({ request, cookies, url, getClientAddress }) => {
		const form = await request.formData();
		const raw = { pool: form.get('pool'), user: form.get('user'), password: form.get('password') };
		const confirmed = form.get('confirm_fingerprint');
		const values = { pool: typeof raw.pool === 'string' ? raw.pool : '', user: typeof raw.user === 'string' ? raw.user : '' };
		const parsed = v.safeParse(LoginForm, raw);
		if (!parsed.success) {
			return fail(400, { values, message: parsed.issues.map((i) => i.message).join('. '), code: 'INVALID_INPUT' });
		}
		const address = getClientAddress();
		const userKey = `${parsed.output.user.toLowerCase()}|${address}`;
		const wait = Math.max(failedLoginsPerUser.retryAfter(userKey), loginsPerAddress.retryAfter(address));
		if (wait > 0) {
			log.warn({ user: parsed.output.user, address }, 'login rate-limited');
			return fail(429, { values, message: `Too many login attempts. Try again in ${wait} s.`, code: 'RATE_LIMITED' });
		}
		loginsPerAddress.hit(address);
		const target = pools.find(parsed.output.pool);
		if (!target) {
			return fail(400, { values, message: `Haven is not configured to manage a pool at "${parsed.output.pool}".`, code: 'POOL_NOT_ALLOWED' });
		}
		let sessionId: string;
		const base = poolBaseUrl(target.address);
		try {
			let pin: Parameters<typeof openSession>[3] = {};
			if (typeof confirmed === 'string' && confirmed !== '' && base.protocol === 'https:') {
				// Probe again: the certificate confirmed must be the one the pool presents now.
				const now = await probeCertificate(base.hostname, Number(base.port || 443));
				if (normaliseFingerprint(now.fingerprint256) !== normaliseFingerprint(confirmed)) {
					return fail(409, { values, message: 'The pool now presents a different certificate than the one you confirmed. Check it again.', code: 'CERTIFICATE_CHANGED' });
				}
				pin = { pin: { hostPort: base.host, pin: { fingerprint256: now.fingerprint256, pem: now.pem } } };
			}
			const session = await openSession(target, parsed.output.user, parsed.output.password, pin);
			if (pin.pin) {
				// Trusting a certificate for everyone is a change to the pool's access: operators and up only.
				if (!session.canConfigure) {
					await closeSession(session.id, 'logout');
					return fail(403, { values, message: 'Only a pool-admin or pool-operator can confirm a pool certificate.', code: 'FORBIDDEN_ROLE' });
				}
				savePin(pin.pin.hostPort, { ...pin.pin.pin, confirmedBy: parsed.output.user, confirmedAt: new Date().toISOString() });
				log.warn({ user: parsed.output.user, pool: target.id, host: pin.pin.hostPort, fingerprint: pin.pin.pin.fingerprint256 }, 'pool certificate pinned');
			}
			sessionId = session.id;
			failedLoginsPerUser.reset(userKey);
		} catch (e) {
			const untrusted = untrustedCertificateIn(e);
			if (untrusted) {
				const certificate = untrusted.certificate ?? (await probeCertificate(base.hostname, Number(base.port || 443)).catch(() => null));
				return fail(495, {
					values,
					message: `Haven does not trust the certificate of ${untrusted.host} yet. Compare its fingerprint with the one on the pool master, then confirm.`,
					code: 'UNTRUSTED_CERTIFICATE',
					certificate: certificate && { fingerprint256: certificate.fingerprint256, subject: certificate.subject, issuer: certificate.issuer, validTo: certificate.validTo }
				});
			}
			if (e instanceof XapiError) {
				if (e.code === 'SESSION_AUTHENTICATION_FAILED') failedLoginsPerUser.hit(userKey);
				log.info({ user: parsed.output.user, pool: target.id, code: e.code }, 'login refused by pool');
				return fail(e.code === 'SESSION_AUTHENTICATION_FAILED' ? 401 : 502, { values, message: describeXapiError(e.code, e.params), code: e.code });
			}
			if (e instanceof XapiConnectionError) {
				return fail(502, { values, message: `Cannot reach the pool at ${target.address}.`, code: 'POOL_UNREACHABLE' });
			}
			throw e;
		}
		cookies.set(SESSION_COOKIE, sessionId, {
			path: '/',
			httpOnly: true,
			sameSite: 'strict',
			secure: url.protocol === 'https:',
			maxAge: Math.floor(SESSION_ABSOLUTE_MS / 1000)
		});
		redirect(303, '/pool');
	}
};
