/**
 * `npm run snapshot -- --url URL --user U > pool.json`: dumps a live pool, simulated or real,
 * in the snapshot format (XAPI class name → OpaqueRef → record; see src/lib/xapi/records.ts),
 * ready for `npm run plan` or a scenario. The password comes from HAVEN_PASSWORD or a prompt
 * on a terminal, never from a flag (flags end up in shell history and `ps`).
 * Flags are a stable interface: extend, never rename.
 *
 * Exit codes: 0 done, 1 the pool refused or could not be reached, 2 bad usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configuredCa, normaliseFingerprint, probeCertificate, untrustedCertificateIn, verifiedFetch, type TrustOptions } from '../src/lib/server/tls';
import { XapiClient } from '../src/lib/xapi/client';
import { poolBaseUrl } from '../src/lib/xapi/address';
import { XapiCode } from '../src/lib/xapi/codes';
import { XapiConnectionError, XapiError, isXapiError } from '../src/lib/xapi/errors';
import { XAPI_CLASSES, type Snapshot, type XapiClassName } from '../src/lib/xapi/records';
import { autoTransport } from '../src/lib/xapi/transport';

const USAGE = `usage: npm run snapshot -- --url URL --user USER [--classes pool,host,...] > pool.json
  --url          the pool master (or any member: the master is found), e.g. https://xen1.example.org
                 or 127.0.0.1:8080 for the simulated pool
  --user         XAPI user name (root, or an AD user with at least the read-only role)
  --classes      comma-separated XAPI classes to dump (default: all of ${XAPI_CLASSES.join(', ')})
  --ca FILE      PEM bundle of the CAs that sign the pool's certificates (default: HAVEN_POOL_CA)
  --fingerprint  SHA-256 fingerprint of the host's own (self-signed) certificate, to trust it alone
The password is read from HAVEN_PASSWORD, else prompted for on a terminal.`;

class UsageError extends Error {}

interface Options {
	url: string;
	user: string;
	classes: XapiClassName[];
	ca: string | undefined;
	fingerprint: string | undefined;
}

function readOptions(argv: string[]): Options | 'help' {
	let values: { url?: string; user?: string; classes?: string; ca?: string; fingerprint?: string; help?: boolean };
	try {
		({ values } = parseArgs({
			args: argv,
			options: {
				url: { type: 'string' },
				user: { type: 'string' },
				classes: { type: 'string' },
				ca: { type: 'string' },
				fingerprint: { type: 'string' },
				help: { type: 'boolean', short: 'h' }
			},
			strict: true,
			allowPositionals: false
		}));
	} catch (e) {
		const message = e instanceof Error ? e.message : String(e);
		throw new UsageError(/password/i.test(message) ? `${message} (the password is never a flag: set HAVEN_PASSWORD)` : message);
	}
	if (values.help) return 'help';
	if (!values.url?.trim()) throw new UsageError('--url is required');
	if (!values.user?.trim()) throw new UsageError('--user is required');
	try {
		poolBaseUrl(values.url);
	} catch (e) {
		throw new UsageError(`--url "${values.url}" is not a pool address: ${e instanceof Error ? e.message : String(e)}`);
	}
	let classes: XapiClassName[] = [...XAPI_CLASSES];
	if (values.classes !== undefined) {
		const wanted = values.classes.split(',').map((c) => c.trim()).filter((c) => c !== '');
		const unknown = wanted.filter((c) => !(XAPI_CLASSES as readonly string[]).includes(c));
		if (unknown.length > 0) throw new UsageError(`--classes: unknown class ${unknown.map((c) => `"${c}"`).join(', ')}; known: ${XAPI_CLASSES.join(', ')}`);
		if (wanted.length === 0) throw new UsageError('--classes is empty');
		classes = wanted as XapiClassName[];
	}
	let ca: string | undefined;
	try {
		ca = values.ca !== undefined ? readFileSync(values.ca, 'utf8') : configuredCa();
	} catch (e) {
		throw new UsageError(`cannot read the CA bundle ${values.ca ?? 'named by HAVEN_POOL_CA'}: ${e instanceof Error ? e.message : String(e)}`);
	}
	let fingerprint: string | undefined;
	if (values.fingerprint !== undefined) {
		fingerprint = normaliseFingerprint(values.fingerprint);
		if (fingerprint.length !== 95) throw new UsageError(`--fingerprint "${values.fingerprint}" is not a SHA-256 fingerprint (64 hex digits)`);
	}
	return { url: values.url.trim(), user: values.user.trim(), classes, ca, fingerprint };
}

/**
 * How to trust the pool's TLS certificate: a pinned fingerprint (the certificate is fetched,
 * compared, then used as the only anchor), a CA bundle, or the system's CAs.
 */
async function trustFor(options: Options): Promise<TrustOptions> {
	const base = poolBaseUrl(options.url);
	if (base.protocol !== 'https:' || options.fingerprint === undefined) return { ca: options.ca };
	const presented = await probeCertificate(base.hostname.replace(/^\[|\]$/g, ''), Number(base.port || 443));
	if (normaliseFingerprint(presented.fingerprint256) !== options.fingerprint) {
		throw new PoolProblem(`the certificate of ${base.host} has fingerprint ${presented.fingerprint256}, not the one given with --fingerprint`);
	}
	return { pin: { fingerprint256: presented.fingerprint256, pem: presented.pem } };
}

/** The pool could not be used: reported in one line, exit code 1. */
class PoolProblem extends Error {}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
	const stdin = process.stdin;
	return new Promise((resolve, reject) => {
		let answer = '';
		process.stderr.write(question);
		stdin.setRawMode(true);
		stdin.resume();
		stdin.setEncoding('utf8');
		const finish = (error?: Error) => {
			stdin.setRawMode(false);
			stdin.pause();
			stdin.off('data', onData);
			process.stderr.write('\n');
			if (error) reject(error);
			else resolve(answer);
		};
		const onData = (chunk: string) => {
			for (const ch of chunk) {
				if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
				if (ch === '\u0003') return finish(new UsageError('cancelled'));
				if (ch === '\u007f' || ch === '\b') answer = answer.slice(0, -1);
				else answer += ch;
			}
		};
		stdin.on('data', onData);
	});
}

async function readPassword(user: string, url: string): Promise<string> {
	const fromEnv = process.env['HAVEN_PASSWORD'];
	if (fromEnv !== undefined) return fromEnv;
	if (!process.stdin.isTTY) throw new UsageError('no password: set HAVEN_PASSWORD (stdin is not a terminal to prompt on)');
	return promptHidden(`Password for ${user} at ${url}: `);
}

async function dump(options: Options, password: string): Promise<Partial<Snapshot>> {
	const trust = await trustFor(options);
	const client = new XapiClient({
		address: options.url,
		originator: 'haven-snapshot',
		transport: (url) => autoTransport(url.toString(), { timeoutMs: 60_000, fetch: url.protocol === 'https:' ? verifiedFetch(trust) : undefined })
	});
	await client.login(options.user, password);
	try {
		const snapshot: Partial<Snapshot> = {};
		for (const cls of options.classes) {
			try {
				(snapshot as Record<string, unknown>)[cls] = await client.getAllRecords(cls);
			} catch (e) {
				// An older pool without a class Haven knows still dumps everything else.
				if (!isXapiError(e, XapiCode.MESSAGE_METHOD_UNKNOWN)) throw e;
				process.stderr.write(`snapshot: the pool has no ${cls} class; writing it empty\n`);
				(snapshot as Record<string, unknown>)[cls] = {};
			}
		}
		return snapshot;
	} finally {
		await client.logout().catch(() => undefined);
	}
}

async function main(): Promise<number> {
	let options: Options | 'help';
	let password: string;
	try {
		options = readOptions(process.argv.slice(2));
		if (options === 'help') {
			process.stdout.write(`${USAGE}\n`);
			return 0;
		}
		password = await readPassword(options.user, options.url);
	} catch (e) {
		if (e instanceof UsageError) {
			process.stderr.write(`snapshot: ${e.message}\n${USAGE}\n`);
			return 2;
		}
		throw e;
	}
	try {
		const snapshot = await dump(options, password);
		process.stdout.write(`${JSON.stringify(snapshot, null, '\t')}\n`);
		return 0;
	} catch (e) {
		const untrusted = untrustedCertificateIn(e);
		if (untrusted) {
			process.stderr.write(`snapshot: ${untrusted.message}\n${await trustHint(untrusted.host)}`);
			return 1;
		}
		if (e instanceof PoolProblem) {
			process.stderr.write(`snapshot: ${e.message}\n`);
			return 1;
		}
		if (e instanceof XapiError) {
			process.stderr.write(`snapshot: the pool answered ${e.code}${e.params.length > 0 ? ` (${e.params.join(', ')})` : ''}${e.call ? ` to ${e.call}` : ''}\n`);
			return 1;
		}
		if (e instanceof XapiConnectionError) {
			process.stderr.write(`snapshot: ${e.message}\n`);
			return 1;
		}
		throw e;
	}
}

/** Shows the fingerprint the host presents, so the admin can check it and pin it. */
async function trustHint(hostPort: string): Promise<string> {
	try {
		const url = new URL(`https://${hostPort}`);
		const cert = await probeCertificate(url.hostname.replace(/^\[|\]$/g, ''), Number(url.port || 443));
		return `${hostPort} presents a certificate for "${cert.subject}" with SHA-256 fingerprint\n  ${cert.fingerprint256}\nIf that is your pool's (check on the host: openssl x509 -in /etc/xensource/xapi-ssl.pem -noout -fingerprint -sha256),\nrun again with --fingerprint ${cert.fingerprint256}, or pass the signing CA with --ca FILE.\n`;
	} catch {
		return 'Pass the signing CA with --ca FILE, or the certificate fingerprint with --fingerprint.\n';
	}
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(e: unknown) => {
		process.stderr.write(`snapshot: ${e instanceof Error ? e.message : String(e)}\n`);
		process.exitCode = 1;
	}
);
