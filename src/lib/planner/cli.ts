/**
 * `npm run --silent plan -- <snapshot.json> [--fail <host ref or name>,...] [--priorities <file.json>] [--json]`
 *
 * A stable interface (see docs/planner.md): extend, never rename. Exit codes: 0 answered,
 * 2 bad input (unreadable file, malformed snapshot naming the bad field's path, unknown
 * --fail host, bad priorities file, bad arguments), 1 unexpected failure.
 */
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import type { Ref, Snapshot } from '../xapi/records';
import { analyse } from './analyse';
import { failoverPlan } from './failover';
import { isValidPriority } from './model';
import { formatIssues, parseSnapshot } from './parse';
import type { PrioritySetting, WhatIf } from './types';

class InputError extends Error {}

const USAGE = 'usage: plan <snapshot.json> [--fail <host ref or name>,...] [--priorities <file.json>] [--json]';

interface Args {
	file: string;
	fail: string[] | null;
	priorities: string | null;
	json: boolean;
}

function parseArgs(argv: string[]): Args {
	let file: string | null = null;
	let fail: string[] | null = null;
	let priorities: string | null = null;
	let json = false;
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i] as string;
		const value = (name: string) => {
			const next = argv[++i];
			if (next === undefined) throw new InputError(`${name} needs a value\n${USAGE}`);
			return next;
		};
		if (arg === '--json') json = true;
		else if (arg === '--fail') fail = value('--fail').split(',').map((s) => s.trim()).filter((s) => s !== '');
		else if (arg.startsWith('--fail=')) fail = arg.slice(7).split(',').map((s) => s.trim()).filter((s) => s !== '');
		else if (arg === '--priorities') priorities = value('--priorities');
		else if (arg.startsWith('--priorities=')) priorities = arg.slice(13);
		else if (arg.startsWith('--')) throw new InputError(`unknown option ${arg}\n${USAGE}`);
		else if (file === null) file = arg;
		else throw new InputError(`unexpected argument ${arg}\n${USAGE}`);
	}
	if (file === null) throw new InputError(`no snapshot file given\n${USAGE}`);
	return { file, fail, priorities, json };
}

function readJson(path: string, what: string): unknown {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (e) {
		throw new InputError(`cannot read ${what} ${path}: ${(e as Error).message}`);
	}
	try {
		return JSON.parse(text);
	} catch (e) {
		throw new InputError(`${what} ${path} is not JSON: ${(e as Error).message}`);
	}
}

const prioritySchema = v.pipe(
	v.string(),
	v.check(isValidPriority, (issue) => `expected "restart" | "best-effort" | "" | "0".."3", got ${JSON.stringify(issue.input)}`)
);
const prioritiesSchema = v.record(
	v.string(),
	v.union([prioritySchema, v.object({ priority: prioritySchema, order: v.optional(v.pipe(v.number(), v.integer())) })], (issue) => `expected a priority string or {priority, order?}, got ${JSON.stringify(issue.input)}`)
);

function resolveVm(snapshot: Snapshot, key: string): Ref {
	if (snapshot.VM[key]) return key;
	const matches = Object.entries(snapshot.VM).filter(([, vm]) => vm.name_label === key && !vm.is_a_template && !vm.is_a_snapshot);
	if (matches.length === 1) return (matches[0] as [Ref, unknown])[0];
	throw new InputError(matches.length === 0 ? `priorities: unknown VM ${JSON.stringify(key)}` : `priorities: VM name ${JSON.stringify(key)} is ambiguous (${matches.length} VMs)`);
}

function readPriorities(path: string, snapshot: Snapshot): Record<Ref, PrioritySetting> {
	const parsed = v.safeParse(prioritiesSchema, readJson(path, 'priorities file'));
	if (!parsed.success) {
		const lines = parsed.issues.map((issue) => `priorities: ${(issue.path ?? []).map((p) => String(p.key)).join('.') || '(root)'}: ${issue.message}`);
		throw new InputError(lines.join('\n'));
	}
	const out: Record<Ref, PrioritySetting> = {};
	for (const [key, setting] of Object.entries(parsed.output)) out[resolveVm(snapshot, key)] = setting;
	return out;
}

function resolveHost(snapshot: Snapshot, key: string): Ref {
	if (snapshot.host[key]) return key;
	const matches = Object.entries(snapshot.host).filter(([, h]) => h.name_label === key || h.uuid === key);
	if (matches.length === 1) return (matches[0] as [Ref, unknown])[0];
	throw new InputError(matches.length === 0 ? `--fail: unknown host ${JSON.stringify(key)}` : `--fail: host name ${JSON.stringify(key)} is ambiguous`);
}

const GiB = 1024 ** 3;
const gib = (bytes: number) => (bytes / GiB).toFixed(1);

function table(headers: string[], rows: string[][]): string {
	const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
	return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function main(argv: string[]): number {
	try {
		const args = parseArgs(argv);
		const parsed = parseSnapshot(readJson(args.file, 'snapshot'));
		if (!parsed.ok) throw new InputError(formatIssues(parsed.issues));
		const snapshot = parsed.snapshot;
		const whatIf: WhatIf = {};
		if (args.priorities) whatIf.priorities = readPriorities(args.priorities, snapshot);
		const failed = args.fail?.map((key) => resolveHost(snapshot, key)) ?? null;

		const analysis = analyse(snapshot, whatIf);
		const failover = failed ? failoverPlan(snapshot, failed, whatIf) : null;
		const vmName = (ref: Ref) => snapshot.VM[ref]?.name_label ?? ref;
		const hostName = (ref: Ref) => snapshot.host[ref]?.name_label ?? ref;

		if (args.json) {
			const out = {
				ntol: analysis.ntol,
				exact: analysis.exact,
				ntolUpper: analysis.ntolUpper,
				toolstackNtol: analysis.toolstackNtol,
				toolstackStrategy: analysis.toolstackStrategy,
				breakingSet: analysis.breakingSet && analysis.breakingSet.hosts.length > 0 ? analysis.breakingSet.hosts : null,
				breakingVms: analysis.breakingSet?.vms ?? [],
				status: analysis.status.kind,
				nonAgile: analysis.nonAgile.map((n) => ({ vm: n.vm, reason: n.code, params: n.params })),
				liveHosts: analysis.liveHosts,
				protectedVms: analysis.protectedVms,
				hosts: analysis.hosts,
				...(failover
					? {
							failover: {
								failed: failover.failed,
								placements: failover.placements,
								unplaced: failover.unplaced,
								bestEffort: failover.bestEffort,
								bestEffortUnplaced: failover.bestEffortUnplaced,
								headroom: failover.headroom,
								remainingNtol: failover.remainingNtol,
								remainingToolstackNtol: failover.remainingToolstackNtol
							}
						}
					: {})
			};
			process.stdout.write(JSON.stringify(out, null, 2) + '\n');
			return 0;
		}

		const lines: string[] = [];
		lines.push(`Host failures tolerated (exact): ${analysis.ntol}${analysis.exact ? '' : ` (proved lower bound; at most ${analysis.ntolUpper}: search budget exhausted)`}`);
		lines.push(`The pool itself will report:     ${analysis.toolstackNtol} (${analysis.toolstackStrategy})`);
		lines.push(`Live hosts: ${analysis.liveHosts}   protected VMs: ${analysis.protectedVms}`);
		if (analysis.breakingSet) {
			const hosts = analysis.breakingSet.hosts.map(hostName).join(', ') || '(no failure needed)';
			lines.push(`Breaking set: ${hosts} -> no room for ${analysis.breakingSet.vms.map(vmName).join(', ')}`);
		} else lines.push('Breaking set: none (only losing every live host strands protected VMs)');
		lines.push('', 'Memory per host (GiB)');
		lines.push(
			table(
				['host', 'live', 'total', 'overhead', 'dom0', 'protected', 'other', 'free', 'free after restarts'],
				analysis.hosts.map((h) => [h.name, h.live ? 'yes' : 'no', gib(h.memoryTotal), gib(h.memoryOverhead), gib(h.controlDomain), gib(h.protectedVms), gib(h.otherVms), gib(h.free), h.freeAfterRestartPlan === null ? '-' : gib(h.freeAfterRestartPlan)])
			)
		);
		if (analysis.nonAgile.length > 0) {
			lines.push('', 'Non-agile VMs');
			lines.push(table(['vm', 'reason'], analysis.nonAgile.map((n) => [vmName(n.vm), n.code])));
		}
		if (failover) {
			lines.push('', `Failover plan for ${failover.failed.map(hostName).join(', ')}`);
			const rows = [
				...Object.entries(failover.placements).map(([vm, host]) => [vmName(vm), 'protected', hostName(host)]),
				...failover.unplaced.map((u) => [vmName(u.vm), 'protected', `UNPLACED ${u.reason}`]),
				...Object.entries(failover.bestEffort).map(([vm, host]) => [vmName(vm), 'best-effort', hostName(host)]),
				...failover.bestEffortUnplaced.map((u) => [vmName(u.vm), 'best-effort', `not restarted ${u.reason}`])
			];
			lines.push(rows.length > 0 ? table(['vm', 'priority', 'restarts on'], rows) : '(no VMs to restart)');
			lines.push('', table(['host', 'headroom GiB'], Object.entries(failover.headroom).map(([h, b]) => [hostName(h), gib(b)])));
			lines.push('', `Tolerance left after this failure: ${failover.remainingNtol} (pool would report ${failover.remainingToolstackNtol})`);
		}
		process.stdout.write(lines.join('\n') + '\n');
		return 0;
	} catch (e) {
		if (e instanceof InputError) {
			process.stderr.write(e.message + '\n');
			return 2;
		}
		process.stderr.write(`plan: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
		return 1;
	}
}

process.exitCode = main(process.argv.slice(2));
