/**
 * Override requests that must be refused, each with the status and the message that names what is wrong
 * (used by overrides.test.ts against a real overwatch: nothing is written and everything keeps serving).
 */
import { deleteOverride, putOverride } from '../testkit/observe-decisions.js';
import type { RunningOpengslb } from '../testkit/opengslb.js';

/** One refused request. */
export interface RefusalCase {
  name: string;
  send: (r: RunningOpengslb) => Promise<{ status: number; body: unknown }>;
  status: number;
  message: RegExp;
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The refusal table for service `name` whose backend `backend` is formatted by `target`; `auth` holds a valid token. */
export function overrideRefusals(o: {
  name: string;
  /** A backend of the service (its address without port). */
  backend: string;
  target: (address: string) => string;
  auth: Record<string, string>;
}): RefusalCase[] {
  return [
    {
      name: 'DELETE of an absent override is 404',
      send: (r) => deleteOverride(r, o.name, o.target(o.backend), o.auth),
      status: 404,
      message: new RegExp(`no override for ${esc(o.backend)}:[0-9]+ in service "${esc(o.name)}"`),
    },
    {
      name: 'an unknown backend is 404 naming it',
      send: (r) => putOverride(r, o.name, o.target('127.0.45.99'), { action: 'drain' }, o.auth),
      status: 404,
      message: new RegExp(`no backend ${esc('127.0.45.99')}:[0-9]+ in service "${esc(o.name)}"`),
    },
    {
      name: 'a backend of another service is 404 naming the service',
      send: (r) => putOverride(r, 'other.example.com', o.target(o.backend), { action: 'drain' }, o.auth),
      status: 404,
      message: new RegExp(`no backend ${esc(o.backend)}:[0-9]+ in service "${esc('other.example.com')}"`),
    },
    {
      name: 'an unknown action is 400 naming the field',
      send: (r) => putOverride(r, o.name, o.target(o.backend), { action: 'explode' }, o.auth),
      status: 400,
      message: /^action must be one of force_healthy, force_unhealthy, drain \(got "explode"\)/,
    },
    {
      name: 'a numeric ttl is 400 naming the field',
      send: (r) => putOverride(r, o.name, o.target(o.backend), { action: 'drain', ttl: 5 }, o.auth),
      status: 400,
      message: /^ttl: must be a string \(got 5\)/,
    },
    {
      name: 'an unparsable ttl is 400 naming the field',
      send: (r) => putOverride(r, o.name, o.target(o.backend), { action: 'drain', ttl: 'forever' }, o.auth),
      status: 400,
      message: /^ttl must be a positive duration/,
    },
    {
      name: 'an unknown field is 400 naming it',
      send: (r) => putOverride(r, o.name, o.target(o.backend), { action: 'drain', colour: 'red' }, o.auth),
      status: 400,
      message: /^colour: unknown field/,
    },
    {
      name: 'a missing action is 400 naming the field',
      send: (r) => putOverride(r, o.name, o.target(o.backend), { reason: 'why not' }, o.auth),
      status: 400,
      message: /^action: is required/,
    },
    {
      name: 'a malformed target is 400',
      send: (r) => putOverride(r, o.name, 'not-a-target', { action: 'drain' }, o.auth),
      status: 400,
      message: /^target must be address:port or \[ipv6\]:port \(got "not-a-target"\)/,
    },
    {
      name: 'a body that is not application/json is 415',
      send: (r) =>
        putOverride(r, o.name, o.target(o.backend), 'action=drain', {
          ...o.auth,
          'content-type': 'text/plain',
        }),
      status: 415,
      message: /must be application\/json, got content-type "text\/plain"/,
    },
    {
      name: 'PUT without Authorization is 401',
      send: (r) => putOverride(r, o.name, o.target(o.backend), { action: 'drain' }),
      status: 401,
      message: /Authorization: Bearer <api\.admin_token>/,
    },
    {
      name: 'PUT with a wrong token is 401',
      send: (r) =>
        putOverride(r, o.name, o.target(o.backend), { action: 'drain' }, { authorization: 'Bearer nope' }),
      status: 401,
      message: /Authorization: Bearer/,
    },
    {
      name: 'DELETE without Authorization is 401',
      send: (r) => deleteOverride(r, o.name, o.target(o.backend)),
      status: 401,
      message: /Authorization: Bearer/,
    },
  ];
}
