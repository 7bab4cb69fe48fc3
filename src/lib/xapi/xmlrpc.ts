/**
 * The client's reading of XML-RPC values. XAPI stores a task's `result` as an XML-RPC
 * `<value>` whatever protocol the caller speaks, so even a JSON-RPC client needs this.
 */

export class XmlRpcValueError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'XmlRpcValueError';
	}
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
	return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, name: string) => {
		if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
		if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
		return ENTITIES[name] ?? whole;
	});
}

/** A token stream of tags and text, whitespace between tags dropped. */
class Cursor {
	#pos = 0;
	constructor(private readonly text: string) {}

	#skipSpace(): void {
		while (this.#pos < this.text.length && /\s/.test(this.text.charAt(this.#pos))) this.#pos++;
	}

	/** Name of the next opening tag (and whether it is self-closing), without consuming it. */
	peekOpen(): { name: string; empty: boolean } | undefined {
		const save = this.#pos;
		this.#skipSpace();
		const m = /^<([A-Za-z_][\w.:-]*)\s*(\/?)>/.exec(this.text.slice(this.#pos, this.#pos + 80));
		this.#pos = save;
		return m?.[1] === undefined ? undefined : { name: m[1], empty: m[2] === '/' };
	}

	open(name: string): boolean {
		this.#skipSpace();
		const m = /^<([A-Za-z_][\w.:-]*)\s*(\/?)>/.exec(this.text.slice(this.#pos, this.#pos + 80));
		if (!m || m[1] !== name) throw new XmlRpcValueError(`expected <${name}> at offset ${this.#pos}`);
		this.#pos += m[0].length;
		return m[2] === '/';
	}

	close(name: string): void {
		this.#skipSpace();
		const m = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(this.text.slice(this.#pos, this.#pos + 80));
		if (!m || m[1] !== name) throw new XmlRpcValueError(`expected </${name}> at offset ${this.#pos}`);
		this.#pos += m[0].length;
	}

	isClose(name: string): boolean {
		const save = this.#pos;
		this.#skipSpace();
		const yes = this.text.startsWith(`</${name}`, this.#pos);
		this.#pos = save;
		return yes;
	}

	/** Character data up to the next tag, with entities decoded and whitespace kept. */
	text_(): string {
		const end = this.text.indexOf('<', this.#pos);
		if (end < 0) throw new XmlRpcValueError('unterminated text');
		const raw = this.text.slice(this.#pos, end);
		this.#pos = end;
		return decodeEntities(raw);
	}

	atEnd(): boolean {
		this.#skipSpace();
		return this.#pos >= this.text.length;
	}
}

function readValue(c: Cursor): unknown {
	if (c.open('value')) return '';
	const tag = c.peekOpen();
	if (tag === undefined) {
		// XAPI writes strings (refs included) bare, without <string>.
		const text = c.text_();
		c.close('value');
		return text;
	}
	c.open(tag.name);
	let value: unknown;
	switch (tag.name) {
		case 'string':
		case 'dateTime.iso8601':
		case 'base64':
			value = tag.empty ? '' : c.text_();
			break;
		case 'int':
		case 'i4':
		case 'i8':
		case 'double': {
			const text = tag.empty ? '' : c.text_().trim();
			const n = Number(text);
			if (text === '' || !Number.isFinite(n)) throw new XmlRpcValueError(`bad <${tag.name}> "${text}"`);
			value = n;
			break;
		}
		case 'boolean': {
			const text = tag.empty ? '' : c.text_().trim();
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
					while (!c.isClose('data')) items.push(readValue(c));
					c.close('data');
				}
			}
			value = items;
			break;
		}
		case 'struct': {
			const struct: Record<string, unknown> = {};
			if (!tag.empty) {
				while (!c.isClose('struct')) {
					c.open('member');
					c.open('name');
					const key = c.text_();
					c.close('name');
					struct[key] = readValue(c);
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
	const c = new Cursor(xml);
	const value = readValue(c);
	if (!c.atEnd()) throw new XmlRpcValueError('text after the value');
	return value;
}
