/**
 * The simulated pool as a Transport without sockets, for unit tests that want XAPI semantics
 * but no HTTP. Results go through a JSON round trip, so callers get exactly what JSON-RPC
 * would deliver (and can never mutate the pool's records by accident).
 */
import { XapiConnectionError } from '../errors';
import type { Transport } from '../transport';
import type { SimulatedPool } from './pool';

/** A transport talking to the host at `hostAddress` (the current master by default). */
export function inProcessTransport(pool: SimulatedPool, hostAddress?: string): Transport {
	return async (method, params) => {
		const address = hostAddress ?? pool.masterAddress;
		// A host that is down or cut off does not answer: the same failure a socket would give.
		if (!pool.runtime.endpointUp(address)) throw new XapiConnectionError(`sim://${address}`, new Error('connection refused'));
		const result = await pool.call(method, params, { hostAddress: address });
		return result === undefined ? result : (JSON.parse(JSON.stringify(result)) as unknown);
	};
}
