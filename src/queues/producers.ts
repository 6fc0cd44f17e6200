import type { ParseMessage } from "./messages.ts";

/**
 * Asks the parse consumer to parse a version that just became ready (the first chunk of
 * its current generation). Delivery is at least once and the consumer is idempotent, so
 * sending again for the same version is harmless.
 */
export async function sendParseMessages(queue: Queue, versionIds: number[]): Promise<void> {
  if (versionIds.length === 0) return;
  const messages = versionIds.map((version_id) => ({ body: { kind: "parse", version_id } satisfies ParseMessage, contentType: "json" as const }));
  await queue.sendBatch(messages);
}
