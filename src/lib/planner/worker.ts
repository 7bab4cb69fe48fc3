import * as Comlink from 'comlink';
import { plannerApi } from './worker-api';

// Only wiring: the planner itself lives in plain modules that node tests import directly.
Comlink.expose(plannerApi);
