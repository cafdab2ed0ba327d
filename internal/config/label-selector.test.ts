import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLabelSelector, matchesLabels, parseLabelSelector } from './label-selector.js';

function matcherOf(text: string) {
  const parsed = parseLabelSelector(text);
  assert.ok('matchers' in parsed, `selector ${JSON.stringify(text)} should parse: ${JSON.stringify(parsed)}`);
  return parsed.matchers;
}

describe('parseLabelSelector', () => {
  const parseCases: Array<{ text: string; want: Array<[string, string, string]> }> = [
    { text: 'code=~"5.."', want: [['code', '=~', '5..']] },
    { text: '{status="500"}', want: [['status', '=', '500']] },
    {
      text: ' code !~ "2.." , method!="HEAD", ',
      want: [
        ['code', '!~', '2..'],
        ['method', '!=', 'HEAD'],
      ],
    },
    { text: 'path="a\\"b\\\\c"', want: [['path', '=', 'a"b\\c']] },
    { text: '', want: [] },
    { text: '{}', want: [] },
  ];
  for (const c of parseCases) {
    it(`parses ${JSON.stringify(c.text)}`, () => {
      const got = matcherOf(c.text).map((m) => [m.label, m.op, m.value]);
      assert.deepEqual(got, c.want);
    });
  }

  const badCases: Array<{ text: string; want: RegExp }> = [
    { text: 'code=5..', want: /must be terms like/ },
    { text: 'code="5" method="GET"', want: /expected "," at "method=\\"GET\\""/ },
    { text: '{code="5"', want: /without a closing/ },
    { text: 'code=~"(5"', want: /invalid regular expression "\(5"/ },
    { text: '1code="5"', want: /must be terms like/ },
  ];
  for (const c of badCases) {
    it(`rejects ${JSON.stringify(c.text)}`, () => {
      const parsed = parseLabelSelector(c.text);
      assert.ok('error' in parsed, `expected an error, got ${JSON.stringify(parsed)}`);
      assert.match(parsed.error, c.want);
    });
  }
});

describe('matchesLabels', () => {
  const cases: Array<{ selector: string; labels: Record<string, string>; want: boolean }> = [
    { selector: 'code=~"5.."', labels: { code: '503' }, want: true },
    { selector: 'code=~"5.."', labels: { code: '5030' }, want: false },
    { selector: 'code=~"5.."', labels: { code: '200' }, want: false },
    { selector: 'code=~"5.."', labels: {}, want: false },
    { selector: 'status="500"', labels: { status: '500', method: 'GET' }, want: true },
    { selector: 'status!="500"', labels: { status: '200' }, want: true },
    { selector: 'status!="500"', labels: {}, want: true },
    { selector: 'le=""', labels: {}, want: true },
    { selector: 'code!~"2..|3.."', labels: { code: '404' }, want: true },
    { selector: 'code!~"2..|3.."', labels: { code: '302' }, want: false },
    { selector: 'code=~"5..",method="GET"', labels: { code: '500', method: 'POST' }, want: false },
    { selector: '', labels: { anything: 'x' }, want: true },
  ];
  for (const c of cases) {
    it(`${c.selector || '(empty)'} on ${JSON.stringify(c.labels)} is ${c.want}`, () => {
      assert.equal(matchesLabels(c.labels, matcherOf(c.selector)), c.want);
    });
  }
});

describe('checkLabelSelector', () => {
  it('accepts a selector and rejects an empty or malformed one', () => {
    assert.equal(checkLabelSelector('code=~"5.."'), undefined);
    assert.match(checkLabelSelector('') ?? '', /must select the error series/);
    assert.match(checkLabelSelector('code') ?? '', /must be terms like/);
  });
});
