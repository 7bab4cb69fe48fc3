import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as v from 'valibot';
import { normaliseFingerprint } from './tls';

/**
 * Certificates admins confirmed on first connection, by `host:port`, kept in the data folder
 * (`HAVEN_DATA_DIR`, default .haven/data) as pins.json.
 */
const PinFile = v.record(v.string(), v.object({ fingerprint256: v.string(), pem: v.string(), confirmedBy: v.string(), confirmedAt: v.string() }));
export type Pin = v.InferOutput<typeof PinFile>[string];

function pinPath(): string {
	return join(resolve(process.env['HAVEN_DATA_DIR'] ?? '.haven/data'), 'pins.json');
}

function readPins(): Record<string, Pin> {
	const path = pinPath();
	if (!existsSync(path)) return {};
	const parsed = v.safeParse(PinFile, JSON.parse(readFileSync(path, 'utf8')));
	if (!parsed.success) throw new Error(`${path} is malformed: ${parsed.issues[0]?.message ?? 'invalid'}`);
	return parsed.output;
}

export function pinFor(hostPort: string): Pin | undefined {
	return readPins()[hostPort];
}

export function savePin(hostPort: string, pin: Omit<Pin, 'fingerprint256'> & { fingerprint256: string }): void {
	const pins = readPins();
	pins[hostPort] = { ...pin, fingerprint256: normaliseFingerprint(pin.fingerprint256) };
	const path = pinPath();
	mkdirSync(dirname(path), { recursive: true });
	// Written aside and renamed, so a crash never leaves half a file.
	writeFileSync(`${path}.tmp`, JSON.stringify(pins, null, '\t'), { mode: 0o600 });
	renameSync(`${path}.tmp`, path);
}
