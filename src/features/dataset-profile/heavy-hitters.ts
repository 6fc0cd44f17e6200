/**
 * Most frequent values by the space-saving algorithm (Metwally et al.) with a fixed
 * number of counters. A value whose true count exceeds n / COUNTERS is always kept; each
 * kept count overestimates the true one by at most its `error` (the count of the value it
 * evicted), so an entry with error 0 is exact. Values longer than VALUE_CHARS are counted
 * under their first VALUE_CHARS characters, which keeps the cursor state bounded.
 */
export const COUNTERS = 16;
export const VALUE_CHARS = 100;

/** [value, count, error] */
export type Counter = [string, number, number];

export class SpaceSaving {
  private readonly counters: Map<string, Counter>;

  constructor(state: readonly Counter[] = []) {
    this.counters = new Map(state.map((counter) => [counter[0], [...counter] as Counter]));
  }

  add(text: string): void {
    const value = text.length > VALUE_CHARS ? text.slice(0, VALUE_CHARS) : text;
    const counter = this.counters.get(value);
    if (counter) {
      counter[1] += 1;
      return;
    }
    if (this.counters.size < COUNTERS) {
      this.counters.set(value, [value, 1, 0]);
      return;
    }
    let smallest: Counter | undefined;
    for (const candidate of this.counters.values()) if (!smallest || candidate[1] < smallest[1]) smallest = candidate;
    this.counters.delete(smallest![0]);
    this.counters.set(value, [value, smallest![1] + 1, smallest![1]]);
  }

  /** Up to `limit` values, most frequent first (ties by value, so results are stable). */
  top(limit: number): { value: string; count: number; exact: boolean }[] {
    return [...this.counters.values()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, limit)
      .map(([value, count, error]) => ({ value, count, exact: error === 0 }));
  }

  state(): Counter[] {
    return [...this.counters.values()].map((counter) => [...counter] as Counter);
  }
}
