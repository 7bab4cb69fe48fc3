/**
 * XML-RPC as XAPI speaks it: strings as bare `<value>text</value>`, int64 as strings, floats as
 * `<double>`, maps as `<struct>`, and every result wrapped in `{Status, Value}` or
 * `{Status: "Failure", ErrorDescription}` (except system.listMethods, which is bare).
 * Hand-written because the whole grammar is small and the server must not pull a dependency.
 */

import { XmlCursor, escapeXml } from '../xml-cursor';

export class XmlRpcParseError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'XmlRpcParseError';
	}
}

const reader = (xml: string) => new XmlCursor(xml, (message) => new XmlRpcParseError(message));

export interface XmlRpcCall {
	method: string;
	params: unknown[];
}

/** Fields XAPI declares as float: written as `<double>`; every other number is an int64 string. */
const FLOAT_FIELDS = new Set(['progress']);
/**
 * Fields XAPI declares as datetime, written as `<dateTime.iso8601>`. The value must also look
 * like one: an event's `timestamp` is a plain string, a message's is a datetime.
 */
const DATETIME_FIELDS = new Set(['created', 'finished', 'timestamp', 'start_time', 'last_updated']);
const XAPI_DATETIME = /^\d{8}T\d{2}:\d{2}:\d{2}Z$/;

function readValue(r: XmlCursor): unknown {
	if (r.open('value')) return '';
	const tag = r.peekOpen()?.name;
	if (tag === undefined) {
		// A bare value is a string (XAPI writes strings this way).
		const text = r.cdataOrChars();
		r.close('value');
		return text;
	}
	let value: unknown;
	const empty = r.open(tag);
	switch (tag) {
		case 'string':
			value = empty ? '' : r.cdataOrChars();
			break;
		case 'int':
		case 'i4':
		case 'i8': {
			const text = empty ? '' : r.chars().trim();
			if (!/^[-+]?\d+$/.test(text)) throw new XmlRpcParseError(`bad <${tag}> value "${text}"`);
			value = Number(text);
			break;
		}
		case 'double': {
			const text = empty ? '' : r.chars().trim();
			const n = Number(text);
			if (text === '' || !Number.isFinite(n)) throw new XmlRpcParseError(`bad <double> value "${text}"`);
			value = n;
			break;
		}
		case 'boolean': {
			const text = empty ? '' : r.chars().trim();
			if (text !== '0' && text !== '1') throw new XmlRpcParseError(`bad <boolean> value "${text}"`);
			value = text === '1';
			break;
		}
		case 'dateTime.iso8601':
		case 'base64':
			value = empty ? '' : r.chars().trim();
			break;
		case 'nil':
			value = null;
			break;
		case 'struct': {
			const struct: Record<string, unknown> = {};
			if (!empty) {
				while (!r.peekClose('struct')) {
					r.open('member');
					r.open('name');
					const name = r.chars();
					r.close('name');
					struct[name] = readValue(r);
					r.close('member');
				}
			}
			value = struct;
			break;
		}
		case 'array': {
			const items: unknown[] = [];
			if (!empty) {
				const dataEmpty = r.open('data');
				if (!dataEmpty) {
					while (!r.peekClose('data')) items.push(readValue(r));
					r.close('data');
				}
			}
			value = items;
			break;
		}
		default:
			throw new XmlRpcParseError(`unknown XML-RPC type <${tag}>`);
	}
	if (!empty) r.close(tag);
	r.close('value');
	return value;
}

export function parseMethodCall(xml: string): XmlRpcCall {
	const r = reader(xml);
	r.open('methodCall');
	r.open('methodName');
	const method = r.chars().trim();
	r.close('methodName');
	const params: unknown[] = [];
	if (r.peekOpen()?.name === 'params') {
		if (!r.open('params')) {
			while (!r.peekClose('params')) {
				r.open('param');
				params.push(readValue(r));
				r.close('param');
			}
			r.close('params');
		}
	}
	r.close('methodCall');
	if (!r.atEnd()) throw new XmlRpcParseError('trailing content after </methodCall>');
	if (method === '') throw new XmlRpcParseError('empty methodName');
	return { method, params };
}

/** Parses a whole `<value>` (used by tests and for task results). */
export function parseValue(xml: string): unknown {
	return readValue(reader(xml));
}

export function writeValue(value: unknown, field?: string): string {
	if (value === null || value === undefined) return '<value></value>';
	switch (typeof value) {
		case 'string':
			if (field !== undefined && DATETIME_FIELDS.has(field) && XAPI_DATETIME.test(value)) return `<value><dateTime.iso8601>${value}</dateTime.iso8601></value>`;
			return `<value>${escapeXml(value)}</value>`;
		case 'boolean':
			return `<value><boolean>${value ? 1 : 0}</boolean></value>`;
		case 'number':
			if (field !== undefined && FLOAT_FIELDS.has(field)) return `<value><double>${value}</double></value>`;
			return Number.isInteger(value) ? `<value>${value}</value>` : `<value><double>${value}</double></value>`;
		case 'object': {
			if (Array.isArray(value)) return `<value><array><data>${value.map((v) => writeValue(v)).join('')}</data></array></value>`;
			const members = Object.entries(value as Record<string, unknown>)
				.map(([k, v]) => `<member><name>${escapeXml(k)}</name>${writeValue(v, k)}</member>`)
				.join('');
			return `<value><struct>${members}</struct></value>`;
		}
		default:
			return `<value>${escapeXml(String(value))}</value>`;
	}
}

function methodResponse(inner: string): string {
	return `<?xml version="1.0"?><methodResponse><params><param>${inner}</param></params></methodResponse>`;
}

export function successResponse(value: unknown): string {
	return methodResponse(writeValue({ Status: 'Success', Value: value }));
}

export function failureResponse(description: readonly string[]): string {
	return methodResponse(writeValue({ Status: 'Failure', ErrorDescription: [...description] }));
}

/** system.listMethods answers a bare array, as xapi's api_server special-cases it. */
export function bareResponse(value: unknown): string {
	return methodResponse(writeValue(value));
}
