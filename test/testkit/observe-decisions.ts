/** Reading decisions' audit trail and operator overrides from a running overwatch's REST API, and writing overrides. */
import type { RunningOpengslb } from './opengslb.js';
import { waitFor } from './wait.js';

/** One entry of `GET /api/v1/events`. */
export interface EventJson {
  id: string;
  time: string;
  service: string;
  /** `address:port` (`[v6]:port`), or '' for service-wide events (panic). */
  backend: string;
  from: string;
  to: string;
  reason: string;
  source: 'override' | 'veto' | 'agent' | 'predictive' | 'external' | 'stale' | 'panic' | 'config';
  details: Record<string, string>;
}

/** One entry of `GET /api/v1/overrides`. */
export interface OverrideJson {
  service: string;
  address: string;
  port: number;
  target: string;
  action: 'force_healthy' | 'force_unhealthy' | 'drain';
  reason: string;
  user: string;
  created: string;
  expires: string | null;
}

/** Every retained event after `since` (an event id; 0 = from the start), following the `next` cursor. */
export async function eventsOf(run: RunningOpengslb, since = 0): Promise<EventJson[]> {
  const out: EventJson[] = [];
  let cursor = String(since);
  for (;;) {
    const res = await run.api(`/api/v1/events?since=${cursor}&limit=1000`);
    if (res.status !== 200) throw new Error(`/api/v1/events?since=${cursor}: status ${res.status}`);
    const page = res.body as { events: EventJson[]; next: string };
    out.push(...page.events);
    if (page.events.length === 0 || page.next === cursor) return out;
    cursor = page.next;
  }
}

/** The highest event id retained so far (0 when there is none). */
export async function lastEventId(run: RunningOpengslb): Promise<number> {
  return (await eventsOf(run)).reduce((max, e) => Math.max(max, Number(e.id)), 0);
}

/** Waits for an event matching `match` (after `since`); the events seen last are in the timeout message. */
export async function waitEvent(
  run: RunningOpengslb,
  what: string,
  match: (e: EventJson) => boolean,
  timeoutMs: number,
  since = 0,
): Promise<EventJson> {
  return waitFor(
    `event: ${what}`,
    async () => {
      const events = await eventsOf(run, since);
      const found = events.find(match);
      if (found !== undefined) return found;
      const tail = events.slice(-5).map((e) => `${e.id} ${e.backend} [${e.source}] ${e.reason}`);
      throw new Error(`last events: ${tail.join(' | ') || 'none'}`);
    },
    timeoutMs,
  );
}

/** `GET /api/v1/overrides`, asserting status 200. */
export async function overridesOf(run: RunningOpengslb): Promise<OverrideJson[]> {
  const res = await run.api('/api/v1/overrides');
  if (res.status !== 200) throw new Error(`/api/v1/overrides: status ${res.status}`);
  return (res.body as { overrides: OverrideJson[] }).overrides;
}

/** The path of one backend's override: `/api/v1/overrides/<service>/<target>`, both URL-encoded. */
export function overridePath(service: string, target: string): string {
  return `/api/v1/overrides/${encodeURIComponent(service)}/${encodeURIComponent(target)}`;
}

/**
 * `PUT /api/v1/overrides/<service>/<target>` with a JSON `body` (a string is sent as is) and extra `headers`;
 * the content type is `application/json` unless `headers` says otherwise.
 */
export function putOverride(
  run: RunningOpengslb,
  service: string,
  target: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  return run.api(overridePath(service, target), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** `DELETE /api/v1/overrides/<service>/<target>` with extra `headers`. */
export function deleteOverride(
  run: RunningOpengslb,
  service: string,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  return run.api(overridePath(service, target), { method: 'DELETE', headers });
}

/** The `error.message` (or `message`) of an API error body, for matching. */
export function errorMessage(body: unknown): string {
  const b = body as { error?: { message?: string }; message?: string } | undefined;
  return b?.error?.message ?? b?.message ?? JSON.stringify(body);
}
