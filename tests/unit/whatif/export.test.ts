import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvCell, exportFileName, planCsv, planJson } from '../../../src/lib/whatif/export';
import type { WhatIfRow } from '../../../src/lib/whatif/rows';

const row = (over: Partial<WhatIfRow>): WhatIfRow => ({
	vmRef: 'OpaqueRef:1',
	vm: 'db',
	fromHost: 'h1',
	toHost: 'h2',
	fate: 'restarted',
	reason: null,
	priority: 'High',
	group: 0,
	start: 60,
	end: 90,
	...over
});

describe('csvCell', () => {
	it('leaves plain text and numbers alone', () => {
		expect(csvCell('web-1')).toBe('web-1');
		expect(csvCell(42)).toBe('42');
		expect(csvCell(-3)).toBe('-3');
		expect(csvCell(null)).toBe('');
	});
	it('quotes separators, quotes and line breaks', () => {
		expect(csvCell('a,b')).toBe('"a,b"');
		expect(csvCell('say "hi"')).toBe('"say ""hi"""');
		expect(csvCell('two\nlines')).toBe('"two\nlines"');
	});
	it('defuses cells a spreadsheet would run as a formula', () => {
		for (const evil of ['=HYPERLINK("http://x")', '+1+1', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd']) {
			const cell = csvCell(evil);
			expect(cell.replace(/^"/, '').startsWith("'")).toBe(true);
		}
		expect(csvCell('=1,2')).toBe(`"'=1,2"`);
	});
});

describe('planCsv', () => {
	it('writes a header and one CRLF-terminated row per VM, reason only when unplaced', () => {
		const csv = planCsv([
			row({}),
			row({ vm: 'big', toHost: null, fate: 'unplaced', reason: 'HOST_NOT_ENOUGH_FREE_MEMORY', group: 1, start: 90, end: null }),
			row({ vm: '=cmd()', toHost: null, fate: 'not-protected', reason: 'not protected', priority: 'Do not restart', group: null, start: null, end: null })
		]);
		const lines = csv.split('\r\n');
		expect(lines[0]).toBe(CSV_COLUMNS.join(','));
		expect(lines[1]).toBe('db,h1,h2,,High,0,60,90');
		expect(lines[2]).toBe('big,h1,,HOST_NOT_ENOUGH_FREE_MEMORY,High,1,90,');
		expect(lines[3]).toBe("'=cmd(),h1,,not protected,Do not restart,,,");
		expect(lines[4]).toBe('');
		expect(lines).toHaveLength(5);
	});
});

describe('planJson', () => {
	it('carries the plan, the timeline, the rows and the tolerance, and parses back', () => {
		const plan = { failed: ['OpaqueRef:h1'], placements: { 'OpaqueRef:1': 'OpaqueRef:h2' }, unplaced: [], bestEffort: {}, bestEffortUnplaced: [], headroom: { 'OpaqueRef:h2': 5 }, remainingNtol: 1, remainingToolstackNtol: 0 };
		const text = planJson({
			source: { kind: 'live', name: 'pool' },
			generatedAt: '2026-11-25T16:00:00.000Z',
			failedHosts: [{ ref: 'OpaqueRef:h1', name: 'h1' }],
			analysis: null,
			plan,
			timeline: null,
			rows: [row({})]
		});
		const back = JSON.parse(text) as Record<string, unknown>;
		expect(back['format']).toBe('haven-whatif-plan');
		expect(back['plan']).toEqual(plan);
		expect(back['remainingTolerance']).toEqual({ exact: 1, toolstack: 0 });
		expect(back['vms']).toHaveLength(1);
		expect(back['failedHosts']).toEqual([{ ref: 'OpaqueRef:h1', name: 'h1' }]);
	});
});

describe('exportFileName', () => {
	it('keeps only safe characters', () => {
		expect(exportFileName('Haven demo/pool', '2026-11-25T16:00:05.123Z', 'csv')).toBe('haven-whatif-Haven-demo-pool-2026-11-25T160005Z.csv');
		expect(exportFileName('***', '2026-11-25T16:00:05Z', 'json')).toBe('haven-whatif-pool-2026-11-25T160005Z.json');
	});
});
