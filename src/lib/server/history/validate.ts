import * as v from 'valibot';

/** Bad input to a history function: the message names each field that was wrong and why. */
export class HistoryInputError extends Error {
	readonly issues: readonly { path: string; message: string }[];
	constructor(what: string, issues: readonly { path: string; message: string }[]) {
		super(`invalid ${what}: ${issues.map((i) => `${i.path || '(value)'}: ${i.message}`).join('; ')}`);
		this.name = 'HistoryInputError';
		this.issues = issues;
	}
}

export function parseInput<TSchema extends v.GenericSchema>(schema: TSchema, input: unknown, what: string): v.InferOutput<TSchema> {
	const result = v.safeParse(schema, input);
	if (result.success) return result.output;
	throw new HistoryInputError(
		what,
		result.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }))
	);
}

/** A Date, or a string/number `new Date` understands; invalid dates are refused. */
export const dateInput = v.pipe(
	v.union([v.date(), v.string(), v.number()]),
	v.transform((value) => (value instanceof Date ? value : new Date(value))),
	v.check((d) => !Number.isNaN(d.getTime()), 'not a valid date')
);

export const shortText = (max = 200) => v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(max, `must be at most ${max} characters`));
