import * as v from 'valibot';
import { poolBaseUrl } from '$lib/xapi/address';

/** A pool Haven may connect to. Only configured pools are reachable from the login form. */
export interface PoolTarget {
	/** Stable id used in URLs and logs. */
	id: string;
	name: string;
	/** host[:port] or URL of the pool master, as configured. */
	address: string;
	embedded: boolean;
}

const PoolEntry = v.pipe(
	v.string(),
	v.trim(),
	v.nonEmpty('an entry is empty'),
	v.check((entry) => {
		const address = entry.includes('=') ? entry.slice(entry.indexOf('=') + 1) : entry;
		try {
			poolBaseUrl(address);
			return true;
		} catch {
			return false;
		}
	}, 'is not a host, host:port or URL')
);

/**
 * Parses `HAVEN_POOLS`: comma-separated `name=address` or bare `address` entries, e.g.
 * `prod=xen-prod.example.org,lab=https://10.1.2.3`.
 */
export function parsePoolList(text: string | undefined): PoolTarget[] {
	if (!text || text.trim() === '') return [];
	return text.split(',').map((raw, i) => {
		const result = v.safeParse(PoolEntry, raw);
		if (!result.success) {
			throw new Error(`HAVEN_POOLS entry ${i + 1} ("${raw.trim()}") ${result.issues[0]?.message ?? 'is invalid'}`);
		}
		const entry = result.output;
		const [name, address] = entry.includes('=') ? [entry.slice(0, entry.indexOf('=')).trim(), entry.slice(entry.indexOf('=') + 1).trim()] : [entry, entry];
		return { id: slug(name || address), name: name || address, address, embedded: false };
	});
}

function slug(text: string): string {
	return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'pool';
}

/** Compares addresses the way connections would be made (scheme, host and port). */
export function sameAddress(a: string, b: string): boolean {
	try {
		return poolBaseUrl(a).origin === poolBaseUrl(b).origin;
	} catch {
		return false;
	}
}

class PoolRegistry {
	#pools: PoolTarget[] = [];
	#loaded = false;

	#ensureLoaded(): void {
		if (this.#loaded) return;
		this.#loaded = true;
		this.#pools.push(...parsePoolList(process.env['HAVEN_POOLS']));
	}

	list(): PoolTarget[] {
		this.#ensureLoaded();
		return [...this.#pools];
	}

	/** Registers the embedded simulated pool once it listens. */
	addEmbedded(address: string, name: string): PoolTarget {
		this.#ensureLoaded();
		const target: PoolTarget = { id: 'embedded', name, address, embedded: true };
		this.#pools = [target, ...this.#pools.filter((p) => p.id !== 'embedded')];
		return target;
	}

	/** The configured pool for an address typed into the login form, or undefined. */
	find(address: string): PoolTarget | undefined {
		return this.list().find((p) => sameAddress(p.address, address) || p.name === address.trim());
	}

	byId(id: string): PoolTarget | undefined {
		return this.list().find((p) => p.id === id);
	}
}

export const pools = new PoolRegistry();
