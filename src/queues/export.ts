/**
 * The `export` queue and its dead-letter queue. The work is writeExport (a plain function
 * of a database and a bucket); this file only binds it to a message. The message id and
 * attempt make the writer's claim: a redelivery of the same message takes over its own
 * claim at once, while a different message for the same export (a duplicate) leaves a
 * live claim alone.
 */
import { createDatabase } from "../db/client.ts";
import { failExport } from "../features/exports/export-dead-letter.ts";
import { writeExport } from "../features/exports/export-writer.ts";
import type { ConsumerContext } from "./consume.ts";
import type { ExportMessage } from "./messages.ts";

function depsOf(context: ConsumerContext) {
  return { db: createDatabase(context.config), bucket: context.config.FILES, logger: context.logger };
}

export async function consumeExportMessage(body: ExportMessage, message: Message<unknown>, context: ConsumerContext): Promise<void> {
  const outcome = await writeExport(depsOf(context), body.export_id, { delivery: { id: message.id, attempt: message.attempts } });
  // The time slice ran out: a fresh message carries on from the saved part.
  if (outcome === "continue") {
    await context.config.EXPORT_QUEUE.send({ kind: "export", export_id: body.export_id } satisfies ExportMessage, { contentType: "json" });
  }
}

export async function consumeExportDeadLetter(body: ExportMessage, message: Message<unknown>, context: ConsumerContext): Promise<void> {
  await failExport(depsOf(context), body.export_id, message.id);
}
