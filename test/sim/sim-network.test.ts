import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRand } from '../../internal/testkit/seeded-rand.js';
import { createSimNetwork, type LinkModel } from './sim-network.js';

const perfect: LinkModel = { minDelayMs: 1, spreadMs: 1, jitterMs: 1, lossRate: 0, dupRate: 0 };
const ids = ['1', '2', '3', '4', '5'];

function reach(net: ReturnType<typeof createSimNetwork>): string[] {
  return ids.flatMap((a) => ids.filter((b) => a !== b && !net.blocked(a, b)).map((b) => `${a}>${b}`));
}

describe('simulated network', () => {
  it('delivers once with the link latency when perfect', () => {
    const net = createSimNetwork(seededRand(1), perfect);
    assert.deepEqual(net.route('1', '2'), [1]);
  });

  it('drops and duplicates at the configured rates (seed 3)', () => {
    const net = createSimNetwork(seededRand(3), { ...perfect, lossRate: 0.5, dupRate: 0.5 });
    const counts = [0, 0, 0];
    for (let i = 0; i < 2000; i++)
      counts[net.route('1', '2').length] = (counts[net.route('1', '2').length] ?? 0) + 1;
    for (const c of counts) assert.ok(c > 300, `counts lost/once/twice ${counts.join('/')}`);
  });

  for (let seed = 1; seed <= 20; seed++) {
    it(`builds full, one-way and bridge partitions (seed ${seed})`, () => {
      const net = createSimNetwork(seededRand(seed), perfect);
      net.partition('full', ids);
      const links = reach(net);
      // Symmetric, and reachability is an equivalence with two classes.
      for (const l of links)
        assert.ok(links.includes(l.split('>').reverse().join('>')), `full: ${l} one-way`);
      net.partition('asymmetric', ids);
      const oneWay = reach(net).filter((l) => !reach(net).includes(l.split('>').reverse().join('>')));
      assert.ok(oneWay.length > 0, 'asymmetric: every link is two-way');
      const desc = net.partition('bridge', ids);
      const mid = /<-> (\S+) <->/.exec(desc)?.[1] as string;
      for (const x of ids) if (x !== mid) assert.ok(!net.blocked(mid, x) && !net.blocked(x, mid), desc);
      assert.ok(reach(net).length < 20, `bridge cut nothing: ${desc}`);
      net.heal();
      assert.equal(reach(net).length, 20);
    });
  }
});
