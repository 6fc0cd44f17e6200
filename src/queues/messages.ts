import { z } from "zod";

/**
 * Bodies of the messages on the `parse` queue. The upload's completion sends
 * `{kind, version_id}`: the first parse, generation 0. A reparse sends its
 * `generation`; each chunk of a streamed format sends the next one with the byte
 * `offset` it starts at (see features/parsing/chunked-parse.ts). No offset means the
 * first chunk.
 */
export const parseMessageSchema = z.object({
  kind: z.literal("parse"),
  version_id: z.number().int().positive(),
  generation: z.number().int().nonnegative().optional(),
  offset: z.number().int().nonnegative().optional(),
});

/** Bodies of the messages on the `export` queue. */
export const exportMessageSchema = z.object({
  kind: z.literal("export"),
  export_id: z.number().int().positive(),
});

/** Bodies of the messages on the `webhook` queue: send this endpoint's due deliveries. */
export const webhookMessageSchema = z.object({
  kind: z.literal("webhook"),
  webhook_id: z.number().int().positive(),
});

export type WebhookMessage = z.infer<typeof webhookMessageSchema>;
/** Bodies of the messages on the `draft` queue: work on a drafting run from where it stands. */
export const draftMessageSchema = z.object({
  kind: z.literal("draft"),
  draft_id: z.number().int().positive(),
});

/** Bodies of the messages on the `validation` queue: check a run's table from where the run stands. */
export const validationMessageSchema = z.object({
  kind: z.literal("validation"),
  validation_id: z.number().int().positive(),
});

export type ParseMessage = z.infer<typeof parseMessageSchema>;
export type ValidationMessage = z.infer<typeof validationMessageSchema>;
export type DraftMessage = z.infer<typeof draftMessageSchema>;
export type ExportMessage = z.infer<typeof exportMessageSchema>;
export type QueueMessage = ParseMessage | ExportMessage | WebhookMessage | DraftMessage | ValidationMessage;
