import { z } from "zod";

/** Bodies of the messages on the `parse` queue. */
export const parseMessageSchema = z.object({
  kind: z.literal("parse"),
  version_id: z.number().int().positive(),
});

/** Bodies of the messages on the `export` queue. */
export const exportMessageSchema = z.object({
  kind: z.literal("export"),
  export_id: z.number().int().positive(),
});

export type ParseMessage = z.infer<typeof parseMessageSchema>;
export type ExportMessage = z.infer<typeof exportMessageSchema>;
export type QueueMessage = ParseMessage | ExportMessage;
