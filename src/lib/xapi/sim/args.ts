/**
 * Argument checks for simulated XAPI methods, failing with the codes xapi's unmarshaller and
 * handle lookups use: a value of the wrong type is `FIELD_TYPE_ERROR [param]`, a ref that names
 * no object of the class is `HANDLE_INVALID [class, ref]`. Everything arrives untyped from the
 * wire (XML-RPC sends ints as strings, JSON-RPC as numbers), so every method checks here first.
 */
import * as v from 'valibot';
import { XapiCode } from '../codes';
import { XapiError } from '../errors';
import type { RecordsByClass, Ref, XapiClassName } from '../records';
import type { SimDatabase } from './database';

const StringSchema = v.string();
const BoolSchema = v.boolean();
const IntSchema = v.union([
	v.pipe(v.number(), v.integer()),
	v.pipe(v.string(), v.regex(/^[-+]?\d+$/), v.transform(Number))
]);
const FloatSchema = v.union([v.number(), v.pipe(v.string(), v.decimal(), v.transform(Number))]);
const StringMapSchema = v.record(v.string(), v.string());
const StringListSchema = v.array(v.string());

function typeError(param: string): XapiError {
	return new XapiError(XapiCode.FIELD_TYPE_ERROR, [param]);
}

export function str(value: unknown, param: string): string {
	const r = v.safeParse(StringSchema, value);
	if (!r.success) throw typeError(param);
	return r.output;
}

export function bool(value: unknown, param: string): boolean {
	// XML-RPC clients written loosely send "true"/"false"; xapi's unmarshaller accepts them too.
	if (value === 'true') return true;
	if (value === 'false') return false;
	const r = v.safeParse(BoolSchema, value);
	if (!r.success) throw typeError(param);
	return r.output;
}

export function int(value: unknown, param: string): number {
	const r = v.safeParse(IntSchema, value);
	if (!r.success || !Number.isSafeInteger(r.output)) throw typeError(param);
	return r.output;
}

export function float(value: unknown, param: string): number {
	const r = v.safeParse(FloatSchema, value);
	if (!r.success) throw typeError(param);
	return r.output;
}

export function stringMap(value: unknown, param: string): Record<string, string> {
	const r = v.safeParse(StringMapSchema, value);
	if (!r.success) throw typeError(param);
	return r.output;
}

export function stringList(value: unknown, param: string): string[] {
	const r = v.safeParse(StringListSchema, value);
	if (!r.success) throw typeError(param);
	return r.output;
}

/** A ref that must name an existing object of `cls`. */
export function ref<K extends XapiClassName>(db: SimDatabase, cls: K, value: unknown, param: string): [Ref, RecordsByClass[K]] {
	const r = str(value, param);
	const record = db.get(cls, r);
	if (!record) throw new XapiError(XapiCode.HANDLE_INVALID, [cls, r]);
	return [r, record];
}

export function refList<K extends XapiClassName>(db: SimDatabase, cls: K, value: unknown, param: string): Ref[] {
	return stringList(value, param).map((r) => ref(db, cls, r, param)[0]);
}
