#!/usr/bin/env node
/**
 * `opengslb-agent`: the agent that streams predictive signals to the overwatch. Not built yet (issue #3):
 * it says so and exits 2 rather than pretending to run.
 */
import { VERSION } from '../../internal/version/version.js';

const args = process.argv.slice(2);
if (args.includes('--version')) {
  process.stdout.write(`opengslb-agent ${VERSION}\n`);
  process.exit(0);
}
process.stderr.write(
  'opengslb-agent: the agent is not available in this release; it arrives with the gRPC/agent issue (#3).\n',
);
process.exit(2);
