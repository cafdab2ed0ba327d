// Regenerates the configuration references from the schemas (run after `npm run build`; `npm run docs` does
// both): docs/configuration.md (overwatch) and docs/agent-configuration.md (agent).
import { writeFileSync } from 'node:fs';
import { agentReference } from '../dist/internal/config/agent.js';
import { overwatchReference } from '../dist/internal/config/overwatch.js';

for (const [file, render] of [
  ['configuration.md', overwatchReference],
  ['agent-configuration.md', agentReference],
]) {
  writeFileSync(new URL(`../docs/${file}`, import.meta.url), render());
  console.log(`wrote docs/${file}`);
}
