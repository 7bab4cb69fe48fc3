import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SelfSignedCert {
	key: string;
	cert: string;
	fingerprint256: string;
}

/** A self-signed certificate for 127.0.0.1, made by openssl as a pool's own would be. */
export function selfSignedCert(commonName = '127.0.0.1'): SelfSignedCert {
	const dir = mkdtempSync(join(tmpdir(), 'haven-cert-'));
	const key = join(dir, 'key.pem');
	const cert = join(dir, 'cert.pem');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=IP:${commonName}`], { stdio: 'ignore' });
	const fingerprint = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
	return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), fingerprint256: fingerprint.split('=')[1]?.trim() ?? '' };
}

/** An HTTPS endpoint in front of a plain-HTTP XAPI (the simulated pool), like a real host's. */
export async function startTlsFront(target: string, cert: SelfSignedCert): Promise<{ url: string; port: number; close(): Promise<void> }> {
	const server: Server = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (c: Buffer) => chunks.push(c));
		req.on('end', () => {
			fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body: Buffer.concat(chunks) })
				.then(async (answer) => {
					res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
					res.end(Buffer.from(await answer.arrayBuffer()));
				})
				.catch(() => {
					res.writeHead(502);
					res.end();
				});
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const port = (server.address() as AddressInfo).port;
	return {
		url: `https://127.0.0.1:${port}`,
		port,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}
