import { loadSharedConfig, type SharedBindings } from "../env.ts";
import { createLogger, errorFields } from "../lib/logger.ts";
import { consumeEach, type ConsumerContext } from "./consume.ts";
import { consumeExportDeadLetter, consumeExportMessage } from "./export.ts";
import { exportMessageSchema, validationMessageSchema, webhookMessageSchema } from "./messages.ts";
import { consumeParseBatch, consumeParseDeadLetters } from "./parse.ts";
import { consumeValidationDeadLetter, consumeValidationMessage } from "./validation.ts";
import { consumeWebhookDeadLetter, consumeWebhookMessage } from "./webhook.ts";
import { consumeDraftBatch, consumeDraftDeadLetters } from "../features/drafts/draft-consumer.ts";
import { signalWebhookDispatcher } from "../features/webhooks/webhook-signal.ts";

type QueueRole = "parse" | "parse-dlq" | "export" | "export-dlq" | "webhook" | "webhook-dlq" | "draft" | "draft-dlq" | "validation" | "validation-dlq";

/** Queue names differ per deployment (see wrangler.toml); their suffix says what they carry. */
export function queueRole(queueName: string): QueueRole | null {
  const match = /(parse|export|webhook|draft|validation)(-dlq)?$/.exec(queueName);
  return match ? (`${match[1]}${match[2] ?? ""}` as QueueRole) : null;
}

const consumers: Record<QueueRole, (batch: MessageBatch<unknown>, context: ConsumerContext) => Promise<void>> = {
  parse: (batch, context) => consumeParseBatch(batch, context),
  "parse-dlq": (batch, context) => consumeParseDeadLetters(batch, context),
  export: (batch, context) => consumeEach(batch, exportMessageSchema, context, consumeExportMessage),
  "export-dlq": (batch, context) => consumeEach(batch, exportMessageSchema, context, consumeExportDeadLetter),
  webhook: (batch, context) => consumeEach(batch, webhookMessageSchema, context, consumeWebhookMessage),
  "webhook-dlq": (batch, context) => consumeEach(batch, webhookMessageSchema, context, consumeWebhookDeadLetter),
  draft: (batch, context) => consumeDraftBatch(batch, context),
  "draft-dlq": (batch, context) => consumeDraftDeadLetters(batch, context),
  validation: (batch, context) => consumeEach(batch, validationMessageSchema, context, consumeValidationMessage),
  "validation-dlq": (batch, context) => consumeEach(batch, validationMessageSchema, context, consumeValidationDeadLetter),
};

/**
 * Consumers write events too (a parse's progress and end, an export's): their batches wake
 * the webhook dispatcher, as write requests do. The webhook queue's own batches do not:
 * each would wake a run for nothing (an endpoint's disabling waits for the cron).
 */
export async function handleQueueBatch(batch: MessageBatch<unknown>, env: SharedBindings, ctx?: ExecutionContext): Promise<void> {
  const logger = createLogger({ queue: batch.queue });
  const role = queueRole(batch.queue);
  if (!role) {
    logger.error("batch from an unknown queue; retrying", { size: batch.messages.length });
    batch.retryAll();
    return;
  }
  try {
    const config = loadSharedConfig(env);
    const batchLogger = createLogger({ queue: batch.queue }, config.LOG_LEVEL);
    await consumers[role](batch, { config, logger: batchLogger });
    if (!role.startsWith("webhook")) ctx?.waitUntil(signalWebhookDispatcher(config, batchLogger));
  } catch (error) {
    logger.error("queue batch failed", errorFields(error));
    batch.retryAll();
  }
}
