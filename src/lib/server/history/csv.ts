/**
 * CSV for spreadsheet users (RFC 4180: comma separated, CRLF line ends, quotes doubled).
 * A cell that a spreadsheet would read as a formula (starting with = + - @, or a tab or
 * carriage return that some apps skip first) gets a leading apostrophe, so an attacker who
 * controls a VM name cannot make the helpdesk's Excel run `=HYPERLINK(...)`.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export type CsvCell = string | number | boolean | Date | null | undefined;

export function csvCell(value: CsvCell): string {
	if (value === null || value === undefined) return '';
	let text = value instanceof Date ? value.toISOString() : String(value);
	if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
	return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: Iterable<readonly CsvCell[]>): string {
	const lines = [header.map(csvCell).join(',')];
	for (const row of rows) lines.push(row.map(csvCell).join(','));
	return `${lines.join('\r\n')}\r\n`;
}
