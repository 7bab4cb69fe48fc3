import type { Scenario } from '../scenario-builder';
import { smallScenario } from './small';

/** Every named scenario `npm run sim -- --scenario NAME` accepts. */
export const scenarios: Record<string, () => Scenario> = {
	small: smallScenario
};

export function scenarioNames(): string[] {
	return Object.keys(scenarios);
}

export function loadScenario(name: string): Scenario {
	const make = scenarios[name];
	if (!make) throw new Error(`unknown scenario "${name}"; known: ${scenarioNames().join(', ')}`);
	return make();
}
