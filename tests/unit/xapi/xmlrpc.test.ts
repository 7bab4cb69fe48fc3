import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
	XmlRpcValueError,
	convertInt64Fields,
	parseXmlRpcResponse,
	parseXmlRpcValue,
	writeXmlRpcCall,
	writeXmlRpcValue
} from '../../../src/lib/xapi/xmlrpc';

describe('parseXmlRpcValue', () => {
	it('reads a bare string, as XAPI writes refs in task.result', () => {
		expect(parseXmlRpcValue('<value>OpaqueRef:1234</value>')).toBe('OpaqueRef:1234');
		expect(parseXmlRpcValue('<value/>')).toBe('');
	});

	it('reads typed scalars, arrays and structs, decoding entities', () => {
		const xml =
			'<value><struct><member><name>a &amp; b</name><value><array><data><value><i4>3</i4></value><value><double>0.5</double></value>' +
			'<value><boolean>1</boolean></value><value><string>&lt;x&gt;</string></value></data></array></value></member>' +
			'<member><name>empty</name><value><array><data/></array></value></member></struct></value>';
		expect(parseXmlRpcValue(xml)).toEqual({ 'a & b': [3, 0.5, true, '<x>'], empty: [] });
	});

	it('keeps a member named __proto__ as a plain field', () => {
		const parsed = parseXmlRpcValue('<value><struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member></struct></value>') as Record<string, unknown>;
		expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
		expect(parsed['polluted']).toBeUndefined();
		expect(Object.keys(parsed)).toEqual(['__proto__']);
		const converted = convertInt64Fields(JSON.parse('{"__proto__": {"order": "1"}}')) as Record<string, unknown>;
		expect(Object.getPrototypeOf(converted)).toBe(Object.prototype);
		expect(Object.keys(converted)).toEqual(['__proto__']);
	});

	it('names what is wrong in a malformed value', () => {
		expect(() => parseXmlRpcValue('<value><int>x</int></value>')).toThrow(XmlRpcValueError);
		expect(() => parseXmlRpcValue('<value><blob>1</blob></value>')).toThrow(/unknown XML-RPC type <blob>/);
		expect(() => parseXmlRpcValue('<value>a</value>trailing<x/>')).toThrow(/after the value/);
	});
});

describe('writeXmlRpcCall', () => {
	it('sends integers as int64 strings and other numbers as doubles, and reads back what it wrote', () => {
		expect(writeXmlRpcValue(42)).toBe('<value><string>42</string></value>');
		expect(writeXmlRpcValue(30.1)).toBe('<value><double>30.1</double></value>');
		const value = { s: 'a<b', list: [true, 'x'], map: { k: 'v' } };
		expect(parseXmlRpcValue(writeXmlRpcValue(value))).toEqual(value);
		const call = writeXmlRpcCall('VM.set_order', ['OpaqueRef:s', 'OpaqueRef:vm', 2]);
		expect(call).toContain('<methodName>VM.set_order</methodName>');
		expect(call).toContain('<param><value><string>2</string></value></param>');
	});

	it("sends event.from's timeout as a double even when integral: XAPI refuses an int64 string there", () => {
		expect(writeXmlRpcCall('event.from', ['OpaqueRef:s', ['vm'], '', 30])).toContain('<param><value><double>30</double></value></param>');
	});
});

describe('XML-RPC values round-trip', () => {
	it('reads back every string, boolean, double, list and map it writes', () => {
		// Integers are left out: they travel as int64 strings by design (see convertInt64Fields).
		const leaf = fc.oneof(fc.string({ unit: 'grapheme' }), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)));
		const value = fc.letrec((tie) => ({
			node: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('node'), { maxKeys: 4 }))
		})).node;
		fc.assert(
			fc.property(value, (v) => {
				expect(parseXmlRpcValue(writeXmlRpcValue(v))).toEqual(v);
			}),
			{ numRuns: 300 }
		);
	});
});

describe('parseXmlRpcResponse', () => {
	it('reads the Status struct of a response and a fault', () => {
		const ok = '<?xml version="1.0"?><methodResponse><params><param><value><struct><member><name>Status</name><value>Success</value></member><member><name>Value</name><value>OpaqueRef:x</value></member></struct></value></param></params></methodResponse>';
		expect(parseXmlRpcResponse(ok)).toEqual({ value: { Status: 'Success', Value: 'OpaqueRef:x' } });
		const fault = '<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value>boom</value></member></struct></value></fault></methodResponse>';
		expect(parseXmlRpcResponse(fault)).toEqual({ fault: { faultCode: 1, faultString: 'boom' } });
	});
});

describe('convertInt64Fields', () => {
	it('turns int64 fields of records into numbers at any depth, leaving other strings alone', () => {
		const records = {
			'OpaqueRef:vm': { name_label: '42', memory_static_max: '4294967296', order: '-1', other_config: { order: 'x' }, VBDs: ['OpaqueRef:1'] }
		};
		expect(convertInt64Fields(records)).toEqual({
			'OpaqueRef:vm': { name_label: '42', memory_static_max: 4294967296, order: -1, other_config: { order: 'x' }, VBDs: ['OpaqueRef:1'] }
		});
	});
});
