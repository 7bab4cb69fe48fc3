/**
 * Pool addresses as admins type them: `xen1.example.org`, `10.0.0.5:8443`, or a full URL.
 * A bare name means HTTPS, as XAPI serves it; loopback means plain HTTP (the simulated pool).
 */
export function poolBaseUrl(address: string): URL {
	const trimmed = address.trim();
	if (trimmed === '') throw new Error('pool address is empty');
	if (/^https?:\/\//i.test(trimmed)) return new URL(trimmed);
	const probe = new URL(`http://${trimmed}`);
	const loopback = /^127\.\d+\.\d+\.\d+$/.test(probe.hostname) || probe.hostname === 'localhost' || probe.hostname === '[::1]';
	return new URL(`${loopback ? 'http' : 'https'}://${trimmed}`);
}

/**
 * XAPI clients follow `HOST_IS_SLAVE [master address]` by swapping the host name and keeping
 * scheme and port: every pool member serves XAPI on the same port.
 */
export function withHost(base: URL, host: string): URL {
	const next = new URL(base.toString());
	next.hostname = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
	return next;
}
