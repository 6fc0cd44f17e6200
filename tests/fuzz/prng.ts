/**
 * A small seeded PRNG (mulberry32), so a fuzz run is replayed exactly by its seed: the
 * same seed draws the same operations, identities and values in the same order.
 */
export type Random = {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  chance(probability: number): boolean;
  pick<T>(items: readonly T[]): T;
};

export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    chance: (probability) => next() < probability,
    pick: (items) => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[int(0, items.length - 1)]!;
    },
  };
}

/** A seed from the environment when replaying, else a fresh one (printed by the test on failure). */
export function seedOf(configured: string | undefined): number {
  const parsed = Number(configured);
  return configured && Number.isInteger(parsed) ? parsed >>> 0 : Math.floor(Math.random() * 2 ** 32);
}
