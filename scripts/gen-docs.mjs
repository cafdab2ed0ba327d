// Regenerates docs/configuration.md from the schema (run after `npm run build`; `npm run docs` does both).
import { writeFileSync } from 'node:fs';
import { overwatchReference } from '../dist/internal/config/overwatch.js';

writeFileSync(new URL('../docs/configuration.md', import.meta.url), overwatchReference());
console.log('wrote docs/configuration.md');
