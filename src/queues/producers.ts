import type { ParseMessage } from "./messages.ts";

/**
 * Asks the parse consumer to parse versions from their current position: the first chunk
 * of a generation not begun, the cursor of one under way. Generation 0 (the upload's own
 * parse) goes without a generation, as the upload's message always has. Delivery is at
 * least once and the consumer is idempotent, so sending again for the same version is
 * harmless.
 */
export async function sendParseMessages(queue: Queue, versions: { version_id: number; generation: number }[]): Promise<void> {
  if (versions.length === 0) return;
  const messages = versions.map(({ version_id, generation }) => ({
    body: (generation === 0 ? { kind: "parse", version_id } : { kind: "parse", version_id, generation }) satisfies ParseMessage,
    contentType: "json" as const,
  }));
  await queue.sendBatch(messages);
}
