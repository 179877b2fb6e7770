/**
 * npm run churn [-- --only a,d]: the pod-churn simulation (bench/churn/sim.ts) on its own,
 * printing each scenario's result; exit code 1 when one misses its bound. Needs root.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultChurnOptions, runChurn } from './sim.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const o = defaultChurnOptions(root, (l) => console.log(l));
const i = process.argv.indexOf('--only');
if (i > 0) o.only = (process.argv[i + 1] ?? '').split(',');
const { results, ms } = await runChurn(o);
console.log(`pod-churn simulation done in ${(ms / 1000).toFixed(0)} s`);
process.exitCode = results.every((r) => r.failures.length === 0) ? 0 : 1;
