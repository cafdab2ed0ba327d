import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { matchesLabels, parseLabelSelector } from '../internal/config/label-selector.js';
import {
  type CheckOutcome,
  type CounterScrape,
  createCheckErrorRateSource,
  createPrometheusErrorRateSource,
  failurePercent,
  fetchExposition,
  MAX_SCRAPE_BYTES,
  MAX_WINDOW_ENTRIES,
  recordOutcome,
  recordScrape,
  scrapeErrorPercent,
  sumCounter,
} from './collect-error-rate.js';
import { parsePromText } from './prom-text.js';

const S = 1000;

function selector(text: string) {
  const parsed = parseLabelSelector(text);
  assert.ok('matchers' in parsed, `selector ${text} parses`);
  return parsed.matchers;
}

describe('failurePercent and recordOutcome', () => {
  const outcomes = (spec: string, stepMs = S): CheckOutcome[] =>
    [...spec].map((c, i) => ({ tMs: i * stepMs, ok: c === '+' }));
  const cases: Array<{ name: string; ring: CheckOutcome[]; windowMs: number; nowMs: number; want: number }> =
    [
      { name: 'no checks yet', ring: [], windowMs: 60 * S, nowMs: 0, want: 0 },
      { name: 'all pass', ring: outcomes('+++++'), windowMs: 60 * S, nowMs: 4 * S, want: 0 },
      { name: 'one in four fails', ring: outcomes('++-+'), windowMs: 60 * S, nowMs: 3 * S, want: 25 },
      { name: 'all fail', ring: outcomes('---'), windowMs: 60 * S, nowMs: 2 * S, want: 100 },
      // One outcome per second from t=0; a 2 s window at t=4 s holds t=2, 3, 4: "+-+".
      {
        name: 'old failures leave the window',
        ring: outcomes('--+-+'),
        windowMs: 2 * S,
        nowMs: 4 * S,
        want: 100 / 3,
      },
      {
        name: 'everything older than the window',
        ring: outcomes('---'),
        windowMs: 1 * S,
        nowMs: 10 * S,
        want: 0,
      },
    ];
  for (const c of cases) {
    it(c.name, () => {
      const got = failurePercent(c.ring, c.windowMs, c.nowMs);
      assert.ok(Math.abs(got - c.want) < 1e-9, `expected ${c.want}%, got ${got}%`);
    });
  }

  it('recordOutcome trims to the window and the bound, without mutating', () => {
    const ring: CheckOutcome[] = Object.freeze(outcomes('++--')) as CheckOutcome[];
    const next = recordOutcome(ring, { tMs: 5 * S, ok: true }, 2 * S);
    assert.deepEqual(next, [
      { tMs: 3 * S, ok: false },
      { tMs: 5 * S, ok: true },
    ]);
    assert.equal(ring.length, 4);
    let big: CheckOutcome[] = [];
    for (let i = 0; i < MAX_WINDOW_ENTRIES + 5; i++)
      big = recordOutcome(big, { tMs: i, ok: true }, 3_600_000);
    assert.equal(big.length, MAX_WINDOW_ENTRIES);
    assert.equal(big[0]?.tMs, 5);
  });

  it('createCheckErrorRateSource counts recorded checks on its clock', async () => {
    let t = 0;
    let windowMs = 10 * S;
    const source = createCheckErrorRateSource({ windowMs: () => windowMs, now: () => t });
    for (const ok of [true, false, true, false]) {
      source.record(ok);
      t += S;
    }
    assert.equal(await source.read(), 50);
    windowMs = 1500;
    assert.equal(await source.read(), 100, 'a 1.5 s window at t=4 s holds only the failed check at t=3 s');
  });
});

describe('sumCounter', () => {
  const text = `# TYPE http_requests_total counter
http_requests_total{code="200",method="GET"} 900
http_requests_total{code="503",method="GET"} 60
http_requests_total{code="500",method="POST"} 40
http_requests_total{code="404",method="GET"} 10
http_requests_total{code="500",method="GET"} NaN
other_total{code="500"} 1000
`;
  const samples = parsePromText(text).samples;
  const cases: Array<{ selector: string; want: { total: number; errors: number; series: number } }> = [
    { selector: 'code=~"5.."', want: { total: 1010, errors: 100, series: 4 } },
    { selector: 'code="500"', want: { total: 1010, errors: 40, series: 4 } },
    { selector: 'code=~"5..",method!="POST"', want: { total: 1010, errors: 60, series: 4 } },
    { selector: 'code!~"2..|3.."', want: { total: 1010, errors: 110, series: 4 } },
  ];
  for (const c of cases) {
    it(c.selector, () =>
      assert.deepEqual(sumCounter(samples, 'http_requests_total', selector(c.selector)), c.want),
    );
  }
  it('matches nothing for an absent metric', () => {
    assert.deepEqual(sumCounter(samples, 'requests_total', selector('code="500"')), {
      total: 0,
      errors: 0,
      series: 0,
    });
    assert.equal(matchesLabels({}, selector('code="500"')), false);
  });
});

describe('scrapeErrorPercent', () => {
  const scrapes = (rows: Array<[number, number, number]>): CounterScrape[] =>
    rows.map(([tS, total, errors]) => ({ tMs: tS * S, total, errors }));
  const cases: Array<{
    name: string;
    ring: CounterScrape[];
    windowMs?: number;
    nowMs: number;
    want: number;
  }> = [
    { name: 'no scrapes', ring: [], nowMs: 0, want: 0 },
    { name: 'one scrape', ring: scrapes([[0, 100, 10]]), nowMs: 0, want: 0 },
    {
      name: 'increase between first and last',
      ring: scrapes([
        [0, 1000, 10],
        [10, 1100, 15],
        [20, 1200, 30],
      ]),
      nowMs: 20 * S,
      want: 10,
    },
    {
      name: 'no new requests',
      ring: scrapes([
        [0, 1000, 10],
        [10, 1000, 10],
      ]),
      nowMs: 10 * S,
      want: 0,
    },
    {
      // Restart between t=10 and t=20: the step 1100 -> 50 adds nothing, 50 -> 150 counts from the new baseline.
      name: 'counter reset moves the baseline',
      ring: scrapes([
        [0, 1000, 10],
        [10, 1100, 20],
        [20, 50, 5],
        [30, 150, 55],
      ]),
      nowMs: 30 * S,
      want: ((10 + 50) / (100 + 100)) * 100,
    },
    {
      name: 'errors reset alone also resets',
      ring: scrapes([
        [0, 100, 50],
        [10, 200, 0],
        [20, 300, 10],
      ]),
      nowMs: 20 * S,
      want: 10,
    },
    {
      name: 'scrapes before the window are ignored',
      ring: scrapes([
        [0, 0, 0],
        [50, 1000, 900],
        [70, 1100, 900],
        [80, 1200, 910],
      ]),
      windowMs: 30 * S,
      nowMs: 80 * S,
      want: 5,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = scrapeErrorPercent(c.ring, c.windowMs ?? 60 * S, c.nowMs);
      assert.ok(Math.abs(got - c.want) < 1e-9, `expected ${c.want}%, got ${got}%`);
    });
  }
  it('recordScrape trims to the window', () => {
    const ring = recordScrape(scrapes([[0, 1, 0]]), { tMs: 61 * S, total: 2, errors: 0 }, 60 * S);
    assert.deepEqual(ring, [{ tMs: 61 * S, total: 2, errors: 0 }]);
  });
});

describe('Prometheus scrape over HTTP', () => {
  let body = '';
  let respond: (res: ServerResponse) => void = (res) => res.end(body);
  let lastAccept: string | undefined;
  const server = createServer((req, res) => {
    lastAccept = req.headers.accept;
    respond(res);
  });
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const exposition = (ok: number, failed: number) =>
    `# TYPE http_requests_total counter\nhttp_requests_total{code="200"} ${ok}\nhttp_requests_total{code="502"} ${failed}\n`;

  it('computes the rate across scrapes on the injected clock', async () => {
    respond = (res) => res.end(body);
    let t = 0;
    const source = createPrometheusErrorRateSource({
      url,
      metric: 'http_requests_total',
      errorSelector: 'code=~"5.."',
      timeoutMs: 2000,
      windowMs: () => 60 * S,
      now: () => t,
    });
    body = exposition(1000, 0);
    assert.equal(await source.read(), 0, 'one scrape: no rate yet');
    assert.match(lastAccept ?? '', /text\/plain;version=0\.0\.4/);
    t = 10 * S;
    body = exposition(1090, 10);
    assert.equal(await source.read(), 10);
    t = 20 * S;
    body = exposition(1180, 20);
    assert.equal(await source.read(), 10);
  });

  const failures: Array<{
    name: string;
    respond: (res: ServerResponse) => void;
    timeoutMs?: number;
    want: RegExp;
  }> = [
    {
      name: 'an HTTP error status',
      respond: (res) => res.writeHead(503).end('down'),
      want: /^Error: scrape http:\/\/127\.0\.0\.1:\d+\/metrics: HTTP 503$/,
    },
    {
      name: 'a response without the metric',
      respond: (res) => res.end('other_total 5\n'),
      want: /scrape http:\/\/127\.0\.0\.1:\d+\/metrics: no http_requests_total samples/,
    },
    {
      name: 'a response whose metric lines are all malformed',
      respond: (res) => res.end('http_requests_total{code=500} 1\n'),
      want: /no http_requests_total samples \(1 malformed lines of it\)/,
    },
    {
      // Headers are sent, the body never ends: the deadline covers the body too.
      name: 'a body that stalls',
      respond: (res) => {
        res.writeHead(200);
        res.write('http_requests_total{code="200"} 1\n');
      },
      timeoutMs: 200,
      want: /scrape http:\/\/127\.0\.0\.1:\d+\/metrics: timeout after 200ms/,
    },
    {
      name: 'an oversized body',
      respond: (res) => {
        res.writeHead(200);
        const chunk = Buffer.alloc(1024 * 1024, 0x23);
        for (let i = 0; i <= MAX_SCRAPE_BYTES / chunk.length; i++) res.write(chunk);
        res.end();
      },
      want: /body larger than 8388608 bytes/,
    },
  ];
  for (const c of failures) {
    it(`rejects ${c.name}`, async () => {
      respond = c.respond;
      const source = createPrometheusErrorRateSource({
        url,
        metric: 'http_requests_total',
        errorSelector: 'code=~"5.."',
        timeoutMs: c.timeoutMs ?? 2000,
        windowMs: () => 60 * S,
      });
      await assert.rejects(source.read(), c.want);
    });
  }

  it('names a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await assert.rejects(fetchExposition(`http://127.0.0.1:${port}/metrics`, 2000), /: ECONNREFUSED$/);
  });

  it('refuses a selector that does not parse at creation', () => {
    assert.throws(
      () =>
        createPrometheusErrorRateSource({
          url,
          metric: 'm',
          errorSelector: 'code',
          timeoutMs: 1000,
          windowMs: () => 1000,
        }),
      /error selector "code" must be terms like/,
    );
  });
});
