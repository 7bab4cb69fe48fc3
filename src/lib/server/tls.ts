import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import type { FetchLike } from '$lib/xapi/transport';

/**
 * TLS to real pools. XenServer hosts usually present self-signed certificates, so Haven never
 * silently skips verification: a pool is trusted through a configured CA bundle
 * (`HAVEN_POOL_CA`), or through a certificate pinned by its SHA-256 fingerprint after an admin
 * confirmed it on first connection (see pins.ts).
 */

export interface PeerCertificateInfo {
	fingerprint256: string;
	pem: string;
	subject: string;
	issuer: string;
	validTo: string;
}

/** The pool presented a certificate Haven has no reason to trust yet. */
export class UntrustedCertificateError extends Error {
	readonly host: string;
	readonly certificate: PeerCertificateInfo | null;
	constructor(host: string, reason: string, certificate: PeerCertificateInfo | null) {
		super(`the certificate of ${host} is not trusted: ${reason}`);
		this.name = 'UntrustedCertificateError';
		this.host = host;
		this.certificate = certificate;
	}
}

export interface TrustOptions {
	/** PEM bundle of CAs that sign pool certificates. */
	ca?: string;
	/** A pinned certificate: accepted when the peer's SHA-256 fingerprint equals it. */
	pin?: { fingerprint256: string; pem: string };
}

function toPem(raw: Buffer): string {
	const b64 = raw.toString('base64').match(/.{1,64}/g)?.join('\n') ?? '';
	return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

function describeCert(cert: PeerCertificate): PeerCertificateInfo {
	const name = (n: PeerCertificate['subject'] | undefined) => (n ? Object.entries(n).map(([k, v]) => `${k}=${String(v)}`).join(', ') : '');
	return { fingerprint256: cert.fingerprint256, pem: toPem(cert.raw), subject: name(cert.subject), issuer: name(cert.issuer), validTo: cert.valid_to };
}

export function normaliseFingerprint(text: string): string {
	const hex = text.replace(/^sha256[:=]?/i, '').replace(/[^0-9a-f]/gi, '').toUpperCase();
	return hex.match(/.{2}/g)?.join(':') ?? '';
}

/** Reads the certificate a TLS server presents, without trusting it: for the admin to confirm. */
export function probeCertificate(host: string, port: number, timeoutMs = 10_000): Promise<PeerCertificateInfo> {
	return new Promise((resolve, reject) => {
		const socket = tlsConnect({ host, port, servername: /^[\d.]+$/.test(host) ? undefined : host, rejectUnauthorized: false, timeout: timeoutMs });
		socket.once('secureConnect', () => {
			const cert = socket.getPeerCertificate();
			socket.end();
			if (!cert || !cert.raw) reject(new Error(`${host}:${port} presented no certificate`));
			else resolve(describeCert(cert));
		});
		socket.once('timeout', () => {
			socket.destroy();
			reject(new Error(`${host}:${port} did not complete a TLS handshake in time`));
		});
		socket.once('error', reject);
	});
}

/**
 * A fetch for HTTPS pool endpoints that verifies the peer as configured. With a pin, the pinned
 * certificate is the only trust anchor and its fingerprint must match exactly (host names in
 * XenServer's self-signed certificates rarely match the address used). Without CA or pin the
 * system's CAs apply, as for any HTTPS client.
 */
export function verifiedFetch(trust: TrustOptions): FetchLike {
	return (url, init) =>
		new Promise<Response>((resolve, reject) => {
			const target = new URL(url);
			const hostLabel = target.host;
			const pin = trust.pin ? normaliseFingerprint(trust.pin.fingerprint256) : undefined;
			const req = httpsRequest(
				target,
				{
					method: init.method,
					headers: { ...init.headers, 'content-length': String(Buffer.byteLength(init.body)) },
					signal: init.signal,
					rejectUnauthorized: true,
					agent: false,
					// Only set what is configured: an explicit undefined here breaks Node's defaults.
					...(trust.pin ? { ca: trust.pin.pem } : trust.ca ? { ca: trust.ca } : {}),
					...(pin
						? {
								checkServerIdentity: (_host: string, cert: PeerCertificate) =>
									normaliseFingerprint(cert.fingerprint256) === pin ? undefined : new UntrustedCertificateError(hostLabel, 'fingerprint does not match the pinned one', describeCert(cert))
							}
						: {})
				},
				(res) => {
					const chunks: Buffer[] = [];
					res.on('data', (c: Buffer) => chunks.push(c));
					res.on('end', () => {
						const headers = new Headers();
						for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
						resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers }));
					});
					res.on('error', reject);
				}
			);
			req.on('error', (e: NodeJS.ErrnoException) => {
				if (e instanceof UntrustedCertificateError) return reject(e);
				const tlsCodes = ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'];
				if (e.code && tlsCodes.includes(e.code)) return reject(new UntrustedCertificateError(hostLabel, e.code, null));
				reject(e);
			});
			req.end(init.body);
		});
}

let caBundle: string | undefined | null = null;

/** `HAVEN_POOL_CA`: a PEM file with the CAs that sign the pools' certificates. */
export function configuredCa(): string | undefined {
	if (caBundle === null) {
		const path = process.env['HAVEN_POOL_CA']?.trim();
		caBundle = path ? readFileSync(path, 'utf8') : undefined;
	}
	return caBundle;
}

/** Finds an UntrustedCertificateError anywhere in a cause chain (transports wrap errors). */
export function untrustedCertificateIn(e: unknown): UntrustedCertificateError | undefined {
	for (let current = e, depth = 0; current && depth < 8; depth++) {
		if (current instanceof UntrustedCertificateError) return current;
		current = current instanceof Error ? current.cause : undefined;
	}
	return undefined;
}
