/** Operator duration text ("30m") as a protobuf Duration for CLI requests. */
import { create } from '@bufbuild/protobuf';
import { type Duration, DurationSchema } from '@bufbuild/protobuf/wkt';
import { parseDuration } from '../config/duration.js';

/** @throws Error naming the text when it is not a positive duration. */
export function durationFromJson(text: string): Duration {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new Error(`ttl must be a positive duration like "30m" (got ${JSON.stringify(text)})`);
  return create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
}
