import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Counts the sequential waits on the database a unit of work makes. The Neon driver's
 * every HTTP request (one query, or one batch) passes through `meteredFetch`, so the
 * count is taken where the waiting happens, not guessed by the code that queries.
 */
export class RoundTripMeter {
  count = 0;
  durationMs = 0;
}

const currentMeter = new AsyncLocalStorage<RoundTripMeter>();

export function withRoundTripMeter<T>(meter: RoundTripMeter, work: () => T): T {
  return currentMeter.run(meter, work);
}

export async function meteredFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const meter = currentMeter.getStore();
  const started = performance.now();
  try {
    return await fetch(input, init);
  } finally {
    if (meter) {
      meter.count += 1;
      meter.durationMs += performance.now() - started;
    }
  }
}
