import type { Scenario } from '../scenario-builder';
import { largeScenario } from './large';
import { mixedStorageScenario } from './mixed-storage';
import { overcommittedScenario } from './overcommitted';
import { smallScenario } from './small';
import { unlicensedScenario } from './unlicensed';

/** Every named scenario `npm run sim -- --scenario NAME` accepts. */
export const scenarios: Record<string, () => Scenario> = {
	small: smallScenario,
	'mixed-storage': mixedStorageScenario,
	overcommitted: overcommittedScenario,
	unlicensed: unlicensedScenario,
	large: largeScenario
};

export function scenarioNames(): string[] {
	return Object.keys(scenarios);
}

export function loadScenario(name: string): Scenario {
	const make = scenarios[name];
	if (!make) throw new Error(`unknown scenario "${name}"; known: ${scenarioNames().join(', ')}`);
	return make();
}
