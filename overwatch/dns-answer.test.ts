import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOverwatchConfig } from '../internal/config/overwatch.js';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { Answer, Query } from '../internal/dns/types.js';
import { seededRand } from '../internal/testkit/seeded-rand.js';
import { type AnswerTable, buildAnswerTable } from './answer-table.js';
import { type Backend, backendsOf } from './backends.js';
import { answerQuery } from './dns-answer.js';

const CONFIG = `
dns: {zones: [example.com], default_ttl: 60}
regions:
  - name: east
    servers: [{address: 192.0.2.1}, {address: 192.0.2.2}, {address: "2001:db8::1"}]
  - name: west
    servers: [{address: 198.51.100.1}]
domains:
  - name: app.example.com
    regions: [east, west]
    ttl: 30
    max_records: 4
  - name: v4.a.example.com
    routing_algorithm: failover
    regions: [west, east]
  - name: sticky.example.com
    regions: [west]
    return_last_healthy: true
`;

function config(): OverwatchConfig {
  const r = loadOverwatchConfig({ file: undefined, text: CONFIG });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return r.value;
}

function query(name: string, type = 'A', cls = 'IN'): Query {
  return { id: 1, question: { name, type, class: cls }, recursionDesired: false, edns: undefined };
}

function tableWith(down: string[], previous?: AnswerTable): AnswerTable {
  const c = config();
  const serving = (b: Backend) => !down.includes(b.address);
  return buildAnswerTable(c, backendsOf(c), serving, 7, previous);
}

function ask(table: AnswerTable, q: Query, ready = true): Answer {
  let cursor = 0;
  return answerQuery(q, { table, ready, rand: seededRand(1), nextCursor: () => cursor++ });
}

const addrs = (a: Answer) => a.answers.map((r) => String(r.data)).sort();
const authTypes = (a: Answer) => (a.authorities ?? []).map((r) => r.type);

describe('answerQuery', () => {
  it('answers A with the healthy IPv4 backends and the domain TTL', () => {
    const a = ask(tableWith([]), query('app.example.com'));
    assert.equal(a.rcode, 'NOERROR');
    assert.deepEqual(addrs(a), ['192.0.2.1', '192.0.2.2', '198.51.100.1']);
    assert.deepEqual(
      a.answers.map((r) => r.ttl),
      [30, 30, 30],
    );
    assert.equal(a.authoritative, true);
  });
  it('answers AAAA from IPv6 backends only', () => {
    assert.deepEqual(addrs(ask(tableWith([]), query('app.example.com', 'AAAA'))), ['2001:db8::1']);
  });
  it('matches names case-insensitively and with a trailing dot', () => {
    assert.equal(ask(tableWith([]), query('APP.Example.COM.')).rcode, 'NOERROR');
  });
  it('leaves unhealthy backends out', () => {
    assert.deepEqual(addrs(ask(tableWith(['192.0.2.2']), query('app.example.com'))), [
      '192.0.2.1',
      '198.51.100.1',
    ]);
  });
  it('uses dns.default_ttl when the domain sets none', () => {
    assert.equal(ask(tableWith([]), query('v4.a.example.com')).answers[0]?.ttl, 60);
  });
  it('fails over in configured order', () => {
    assert.deepEqual(addrs(ask(tableWith([]), query('v4.a.example.com'))), ['198.51.100.1']);
    assert.deepEqual(addrs(ask(tableWith(['198.51.100.1']), query('v4.a.example.com'))), ['192.0.2.1']);
  });
  it('gives NODATA with SOA for other types and for a family the name lacks', () => {
    for (const type of ['MX', 'TXT', 'HTTPS', 'UNKNOWN_999']) {
      const a = ask(tableWith([]), query('app.example.com', type));
      assert.equal(a.rcode, 'NOERROR', type);
      assert.deepEqual(a.answers, [], type);
      assert.deepEqual(authTypes(a), ['SOA'], type);
    }
    const v6 = ask(tableWith([]), query('sticky.example.com', 'AAAA'));
    assert.deepEqual([v6.rcode, v6.answers.length, authTypes(v6)], ['NOERROR', 0, ['SOA']]);
  });
  it('gives NXDOMAIN below a domain and inside the zone, NODATA for empty non-terminals', () => {
    const nx = ask(tableWith([]), query('x.app.example.com'));
    assert.deepEqual([nx.rcode, authTypes(nx)], ['NXDOMAIN', ['SOA']]);
    assert.equal(ask(tableWith([]), query('nothing.example.com')).rcode, 'NXDOMAIN');
    const ent = ask(tableWith([]), query('a.example.com'));
    assert.deepEqual([ent.rcode, ent.answers.length], ['NOERROR', 0]);
  });
  it('answers SOA at the apex with the table serial', () => {
    const a = ask(tableWith([]), query('example.com', 'SOA'));
    assert.equal(a.rcode, 'NOERROR');
    assert.equal((a.answers[0]?.data as { serial: number } | undefined)?.serial, 7);
  });
  it('refuses names outside every zone and non-IN classes', () => {
    assert.equal(ask(tableWith([]), query('example.org')).rcode, 'REFUSED');
    assert.equal(ask(tableWith([]), query('com')).rcode, 'REFUSED');
    assert.equal(ask(tableWith([]), query('app.example.com', 'TXT', 'CH')).rcode, 'REFUSED');
  });
  it('answers SERVFAIL before the first round of health checks', () => {
    assert.equal(ask(tableWith([]), query('app.example.com'), false).rcode, 'SERVFAIL');
  });
  it('answers SERVFAIL when nothing serves, unless return_last_healthy', () => {
    const all = ['192.0.2.1', '192.0.2.2', '198.51.100.1', '2001:db8::1'];
    assert.equal(ask(tableWith(all), query('app.example.com')).rcode, 'SERVFAIL');
    const healthy = tableWith([]);
    const sticky = ask(tableWith(all, healthy), query('sticky.example.com'));
    assert.deepEqual([sticky.rcode, addrs(sticky)], ['NOERROR', ['198.51.100.1']]);
    // Never healthy: nothing to fall back to.
    assert.equal(ask(tableWith(all), query('sticky.example.com')).rcode, 'SERVFAIL');
  });
  it('keeps the last healthy set across several all-down rebuilds', () => {
    const all = ['192.0.2.1', '192.0.2.2', '198.51.100.1', '2001:db8::1'];
    const t = tableWith(all, tableWith(all, tableWith([])));
    assert.deepEqual(addrs(ask(t, query('sticky.example.com'))), ['198.51.100.1']);
  });
});
