import type { ParseMessage } from "./messages.ts";

/**
 * Asks the parse consumer to parse versions: from the first chunk of a generation not
 * begun, or, with `offset` (the saved cursor's), from the chunk there. Generation 0 (the
 * upload's own parse) goes without a generation, as the upload's message always has.
 * Delivery is at least once and the consumer is idempotent, so sending again for the
 * same version is harmless.
 */
export async function sendParseMessages(queue: Queue, versions: { version_id: number; generation: number; offset?: number | null }[]): Promise<void> {
  if (versions.length === 0) return;
  const messages = versions.map(({ version_id, generation, offset }) => ({
    body: {
      kind: "parse",
      version_id,
      ...(generation === 0 ? {} : { generation }),
      ...(offset === null || offset === undefined ? {} : { offset }),
    } satisfies ParseMessage,
    contentType: "json" as const,
  }));
  await queue.sendBatch(messages);
}
