import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePromText } from './prom-text.js';

const fixture = `# HELP http_requests_total Requests handled.
# TYPE http_requests_total counter
http_requests_total{method="GET",code="200"} 1027 1395066363000
http_requests_total{method="POST",code="500"} 3
http_requests_total{ method = "GET" , code = "503" , } 2.5e1
http_requests_total{path="C:\\\\DIR\\\\FILE.TXT",err="say \\"hi\\"\\nbye",code="200"} 4
http_requests_total 7
http_requests_total{} 8
  http_requests_total{code="404"}	9
# HELP process_cpu_seconds_total CPU time.
process_cpu_seconds_total 12.47
http_requests_total_created{code="200"} 1395066363
http_request_duration_seconds_bucket{le="+Inf"} 144320
`;

describe('parsePromText', () => {
  it('reads the samples of one metric, labels unescaped', () => {
    const { samples, malformed } = parsePromText(fixture, 'http_requests_total');
    assert.equal(malformed, 0);
    assert.deepEqual(samples, [
      { name: 'http_requests_total', labels: { method: 'GET', code: '200' }, value: 1027 },
      { name: 'http_requests_total', labels: { method: 'POST', code: '500' }, value: 3 },
      { name: 'http_requests_total', labels: { method: 'GET', code: '503' }, value: 25 },
      {
        name: 'http_requests_total',
        labels: { path: 'C:\\DIR\\FILE.TXT', err: 'say "hi"\nbye', code: '200' },
        value: 4,
      },
      { name: 'http_requests_total', labels: {}, value: 7 },
      { name: 'http_requests_total', labels: {}, value: 8 },
      { name: 'http_requests_total', labels: { code: '404' }, value: 9 },
    ]);
  });

  it('reads every metric without a name filter', () => {
    const names = parsePromText(fixture).samples.map((s) => s.name);
    assert.deepEqual(
      [...new Set(names)],
      [
        'http_requests_total',
        'process_cpu_seconds_total',
        'http_requests_total_created',
        'http_request_duration_seconds_bucket',
      ],
    );
  });

  const values: Array<{ text: string; want: number }> = [
    { text: 'm NaN', want: Number.NaN },
    { text: 'm +Inf', want: Number.POSITIVE_INFINITY },
    { text: 'm -Inf', want: Number.NEGATIVE_INFINITY },
    { text: 'm -1.5E-3', want: -0.0015 },
    { text: 'm .5', want: 0.5 },
    { text: 'm 3 # {trace_id="abc"} 1', want: 3 },
  ];
  for (const c of values) {
    it(`reads the value of ${JSON.stringify(c.text)}`, () => {
      const { samples, malformed } = parsePromText(c.text, 'm');
      assert.equal(malformed, 0);
      assert.deepEqual(
        samples.map((s) => s.value),
        [c.want],
      );
    });
  }

  const bad = [
    'm',
    'm{code="500"}',
    'm{code="500"',
    'm{code=500} 1',
    'm{1code="5"} 1',
    'm{code="5" x="1"} 1',
    'm one',
    'm 1 later',
    'm-x 1',
  ];
  for (const line of bad) {
    it(`counts ${JSON.stringify(line)} as malformed and keeps going`, () => {
      const { samples, malformed } = parsePromText(`${line}\nm 1\n`, 'm');
      assert.equal(malformed, 1, `malformed count for ${JSON.stringify(line)}`);
      assert.deepEqual(samples, [{ name: 'm', labels: {}, value: 1 }]);
    });
  }

  it('does not count other metrics as malformed when filtering', () => {
    assert.equal(parsePromText('other{bad 1\n!!!\nm 1\n', 'm').malformed, 0);
    assert.equal(parsePromText('other{bad 1\n!!!\nm 1\n').malformed, 2);
  });
});
