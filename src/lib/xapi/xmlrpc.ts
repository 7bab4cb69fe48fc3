/**
 * XML-RPC as the client speaks it to XAPI: calls written, responses and values read. XAPI also
 * stores a task's `result` as an XML-RPC `<value>` whatever protocol the caller speaks, so even
 * a JSON-RPC client needs the reader. int64 travels as strings both ways (see INT64_FIELDS).
 */
import { INT64_FIELDS } from './records';
import { XmlCursor, escapeXml } from './xml-cursor';

export class XmlRpcValueError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'XmlRpcValueError';
	}
}

const cursor = (xml: string) => new XmlCursor(xml, (message) => new XmlRpcValueError(message));

/** Sets a key from the wire as an own field, so a key named `__proto__` cannot swap prototypes. */
function defineField(target: Record<string, unknown>, key: string, value: unknown): void {
	Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function readValue(c: XmlCursor): unknown {
	if (c.open('value')) return '';
	const tag = c.peekOpen();
	if (tag === undefined) {
		// XAPI writes strings (refs included) bare, without <string>.
		const text = c.chars();
		c.close('value');
		return text;
	}
	c.open(tag.name);
	let value: unknown;
	switch (tag.name) {
		case 'string':
		case 'dateTime.iso8601':
		case 'base64':
			value = tag.empty ? '' : c.chars();
			break;
		case 'int':
		case 'i4':
		case 'i8':
		case 'double': {
			const text = tag.empty ? '' : c.chars().trim();
			const n = Number(text);
			if (text === '' || !Number.isFinite(n)) throw new XmlRpcValueError(`bad <${tag.name}> "${text}"`);
			value = n;
			break;
		}
		case 'boolean': {
			const text = tag.empty ? '' : c.chars().trim();
			if (text !== '0' && text !== '1') throw new XmlRpcValueError(`bad <boolean> "${text}"`);
			value = text === '1';
			break;
		}
		case 'nil':
			value = null;
			break;
		case 'array': {
			const items: unknown[] = [];
			if (!tag.empty) {
				if (!c.open('data')) {
					while (!c.peekClose('data')) items.push(readValue(c));
					c.close('data');
				}
			}
			value = items;
			break;
		}
		case 'struct': {
			const struct: Record<string, unknown> = {};
			if (!tag.empty) {
				while (!c.peekClose('struct')) {
					c.open('member');
					c.open('name');
					const key = c.chars();
					c.close('name');
					defineField(struct, key, readValue(c));
					c.close('member');
				}
			}
			value = struct;
			break;
		}
		default:
			throw new XmlRpcValueError(`unknown XML-RPC type <${tag.name}>`);
	}
	if (!tag.empty) c.close(tag.name);
	c.close('value');
	return value;
}

/** Parses one `<value>...</value>` document, as found in `task.result`. */
export function parseXmlRpcValue(xml: string): unknown {
	const c = cursor(xml);
	const value = readValue(c);
	if (!c.atEnd()) throw new XmlRpcValueError('text after the value');
	return value;
}

/** Reads a `<methodResponse>`: its single param, or a `<fault>` as `{ faultCode, faultString }`. */
export function parseXmlRpcResponse(xml: string): { value: unknown } | { fault: unknown } {
	const c = cursor(xml.replace(/^\s*<\?xml[^>]*\?>/, ''));
	c.open('methodResponse');
	let result: { value: unknown } | { fault: unknown };
	if (c.peekOpen()?.name === 'fault') {
		c.open('fault');
		result = { fault: readValue(c) };
		c.close('fault');
	} else {
		c.open('params');
		c.open('param');
		result = { value: readValue(c) };
		c.close('param');
		c.close('params');
	}
	c.close('methodResponse');
	if (!c.atEnd()) throw new XmlRpcValueError('text after </methodResponse>');
	return result;
}


/**
 * One value as XAPI expects it: integers as int64 strings (XAPI has no 32-bit ints), other
 * numbers as `<double>` (so a float parameter such as event.from's timeout must not be integral).
 */
export function writeXmlRpcValue(value: unknown): string {
	if (value === null || value === undefined) return '<value><string></string></value>';
	if (typeof value === 'string') return `<value><string>${escapeXml(value)}</string></value>`;
	if (typeof value === 'boolean') return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
	if (typeof value === 'number') {
		if (!Number.isFinite(value)) throw new XmlRpcValueError(`cannot send ${value} over XML-RPC`);
		return Number.isInteger(value) ? `<value><string>${value}</string></value>` : `<value><double>${value}</double></value>`;
	}
	if (Array.isArray(value)) return `<value><array><data>${value.map(writeXmlRpcValue).join('')}</data></array></value>`;
	if (typeof value === 'object') {
		const members = Object.entries(value as Record<string, unknown>)
			.filter(([, v]) => v !== undefined)
			.map(([k, v]) => `<member><name>${escapeXml(k)}</name>${writeXmlRpcValue(v)}</member>`);
		return `<value><struct>${members.join('')}</struct></value>`;
	}
	throw new XmlRpcValueError(`cannot send a ${typeof value} over XML-RPC`);
}

/**
 * Parameters XAPI declares float, by position (the session ref counts): sent as `<double>` even
 * when integral, as XAPI refuses an int64 string there.
 */
const FLOAT_PARAMS: Readonly<Record<string, readonly number[]>> = {
	'event.from': [3]
};

export function writeXmlRpcCall(method: string, params: readonly unknown[]): string {
	const floats = FLOAT_PARAMS[method] ?? [];
	const body = params
		.map((p, i) => `<param>${floats.includes(i) && typeof p === 'number' && Number.isFinite(p) ? `<value><double>${p}</double></value>` : writeXmlRpcValue(p)}</param>`)
		.join('');
	return `<?xml version="1.0"?><methodCall><methodName>${escapeXml(method)}</methodName><params>${body}</params></methodCall>`;
}

/**
 * Turns XML-RPC's int64 strings back into numbers in records (any depth: a get_all_records map,
 * an event.from snapshot), so both transports hand out the same shapes. Only fields Haven
 * knows as int64 are touched: a name_label of "42" stays a string.
 */
export function convertInt64Fields(value: unknown): unknown {
	if (Array.isArray(value)) return value.map(convertInt64Fields);
	if (value === null || typeof value !== 'object') return value;
	const out: Record<string, unknown> = {};
	for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
		defineField(out, key, INT64_FIELDS.has(key) && typeof field === 'string' && /^-?\d+$/.test(field) ? Number(field) : convertInt64Fields(field));
	}
	return out;
}
