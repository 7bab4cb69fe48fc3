import pino from 'pino';

/**
 * The server's structured log. Redaction is a second line of defence: passwords and session
 * refs are never passed to it in the first place.
 */
export const log = pino({
	level: process.env['HAVEN_LOG_LEVEL'] ?? (process.env['NODE_ENV'] === 'test' ? 'warn' : 'info'),
	base: { app: 'haven' },
	redact: { paths: ['password', '*.password', 'sessionRef', '*.sessionRef', 'cookie', '*.cookie'], censor: '[redacted]' }
});
