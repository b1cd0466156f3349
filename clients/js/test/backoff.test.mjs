// Unit tests of the reconnect delay: pure arithmetic, no router needed.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoff } from '../wsrouter.js';

test('backoff doubles up to the cap, with jitter in the upper half', async (t) => {
  const cases = [
    { name: 'first attempt, lowest jitter', attempt: 0, random: 0, want: 250 },
    { name: 'first attempt, highest jitter', attempt: 0, random: 0.999999, want: 499.99975 },
    { name: 'third attempt doubles twice', attempt: 2, random: 0, want: 1000 },
    { name: 'capped at max', attempt: 10, random: 0, want: 15000 },
    { name: 'capped at max, highest jitter', attempt: 10, random: 1, want: 30000 },
    { name: 'huge attempt does not overflow', attempt: 5000, random: 0.5, want: 22500 },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const got = backoff(c.attempt, 500, 30000, () => c.random);
      assert.ok(Math.abs(got - c.want) < 1e-6, `backoff(${c.attempt}) = ${got}, want ${c.want}`);
    });
  }
});
