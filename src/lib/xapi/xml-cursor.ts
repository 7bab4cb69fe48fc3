/**
 * The lexical layer of XML-RPC, shared by both ends of the wire: the client reading XAPI's
 * answers (xmlrpc.ts) and the simulated pool reading calls (sim/xmlrpc.ts). Each end keeps its
 * own value grammar and error type; this only walks tags and text.
 */

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
	return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (whole, name: string) => {
		if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
		if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
		return ENTITIES[name] ?? whole;
	});
}

export function escapeXml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const OPEN_TAG = /^<([A-Za-z_][\w.:-]*)\s*(\/?)>/;
const CLOSE_TAG = /^<\/([A-Za-z_][\w.:-]*)\s*>/;
/** Longest tag the grammar has, with room for spacing: tags are matched in a window this wide. */
const TAG_WINDOW = 80;

/** A cursor over a document that skips the prolog, comments and whitespace between tags. */
export class XmlCursor {
	#pos = 0;

	constructor(
		private readonly text: string,
		/** Builds the caller's own error type, so each end reports parse errors its way. */
		private readonly fail: (message: string) => Error
	) {}

	#skipSpace(): void {
		for (;;) {
			while (this.#pos < this.text.length && /\s/.test(this.text.charAt(this.#pos))) this.#pos++;
			if (this.text.startsWith('<?', this.#pos)) {
				const end = this.text.indexOf('?>', this.#pos);
				if (end < 0) throw this.fail('unterminated processing instruction');
				this.#pos = end + 2;
			} else if (this.text.startsWith('<!--', this.#pos)) {
				const end = this.text.indexOf('-->', this.#pos);
				if (end < 0) throw this.fail('unterminated comment');
				this.#pos = end + 3;
			} else return;
		}
	}

	#afterSpace(): number {
		const saved = this.#pos;
		this.#skipSpace();
		const at = this.#pos;
		this.#pos = saved;
		return at;
	}

	/**
	 * The next opening tag (and whether it is self-closing), without consuming anything:
	 * whitespace before text is part of a string value.
	 */
	peekOpen(): { name: string; empty: boolean } | undefined {
		const at = this.#afterSpace();
		const m = OPEN_TAG.exec(this.text.slice(at, at + TAG_WINDOW));
		return m?.[1] === undefined ? undefined : { name: m[1], empty: m[2] === '/' };
	}

	peekClose(name: string): boolean {
		return this.text.startsWith(`</${name}`, this.#afterSpace());
	}

	/** Consumes `<name>` (or `<name/>`, reported as true = empty). */
	open(name: string): boolean {
		this.#skipSpace();
		const m = OPEN_TAG.exec(this.text.slice(this.#pos, this.#pos + TAG_WINDOW));
		if (!m || m[1] !== name) throw this.fail(`expected <${name}> at offset ${this.#pos}`);
		this.#pos += m[0].length;
		return m[2] === '/';
	}

	close(name: string): void {
		this.#skipSpace();
		const m = CLOSE_TAG.exec(this.text.slice(this.#pos, this.#pos + TAG_WINDOW));
		if (!m || m[1] !== name) throw this.fail(`expected </${name}> at offset ${this.#pos}`);
		this.#pos += m[0].length;
	}

	/** Character data up to the next tag, entities decoded, whitespace kept. */
	chars(): string {
		const end = this.text.indexOf('<', this.#pos);
		if (end < 0) throw this.fail('unterminated text');
		const raw = this.text.slice(this.#pos, end);
		this.#pos = end;
		return decodeEntities(raw);
	}

	/** Character data that may start with a CDATA section. */
	cdataOrChars(): string {
		if (this.text.startsWith('<![CDATA[', this.#pos)) {
			const end = this.text.indexOf(']]>', this.#pos);
			if (end < 0) throw this.fail('unterminated CDATA');
			const inner = this.text.slice(this.#pos + 9, end);
			this.#pos = end + 3;
			return inner + this.chars();
		}
		return this.chars();
	}

	atEnd(): boolean {
		this.#skipSpace();
		return this.#pos >= this.text.length;
	}
}
