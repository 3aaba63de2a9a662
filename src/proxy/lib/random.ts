// Randomness is injected (ARCHITECTURE principle 11): weighted picks, fault percentages, retry jitter and
// load balancers take a Random so tests can pass a seeded or scripted one.

export interface Random {
  /** A number in [0, 1). */
  next(): number;
}

export const mathRandom: Random = { next: () => Math.random() };

/** A small deterministic generator (mulberry32) for tests and reproducible simulations. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
