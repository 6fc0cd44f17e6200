import { createDatabase } from "../../db/client.ts";
import type { SharedConfig } from "../../env.ts";
import { retryDelaySeconds, type ConsumerContext } from "../../queues/consume.ts";
import { draftMessageSchema, type DraftMessage } from "../../queues/messages.ts";
import { errorFields } from "../../lib/logger.ts";
import { LlmRefused, RetryLater } from "./chat-completions.ts";
import { failDraft, runDraftMessage, type DraftDependencies } from "./draft-run.ts";

export const DEAD_LETTER_DRAFT_ERROR = "Drafting did not complete: the model's API kept failing or rate limiting. Start a new draft to try again; rows already done keep their suggestions.";

export function draftDependencies(config: SharedConfig, logger: ConsumerContext["logger"]): DraftDependencies {
  return {
    db: createDatabase(config),
    queue: config.DRAFT_QUEUE as Queue<DraftMessage>,
    logger,
    llm: config.LLM_BASE_URL ? { baseUrl: config.LLM_BASE_URL, apiKey: config.LLM_API_KEY, model: config.LLM_MODEL, timeoutMs: config.LLM_TIMEOUT_MS } : null,
    batchRows: config.DRAFT_BATCH_ROWS,
  };
}

/**
 * Acks or retries each message explicitly: a 429 is retried after its Retry-After, an
 * outage with the queue's exponential back-off (the DLQ after the last retry), and a
 * request the model's API refuses for good (4xx) fails the run at once.
 */
export async function consumeDraftBatch(batch: MessageBatch<unknown>, context: ConsumerContext) {
  const deps = draftDependencies(context.config, context.logger);
  for (const message of batch.messages) {
    const logger = context.logger.child({ queue: batch.queue, message_id: message.id, attempts: message.attempts });
    const body = draftMessageSchema.safeParse(message.body);
    if (!body.success) {
      logger.error("malformed queue message", { issues: body.error.issues });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      continue;
    }
    try {
      const outcome = await runDraftMessage(body.data, { ...deps, logger }, undefined, message.id);
      logger.info("draft message handled", { draft_id: body.data.draft_id, outcome });
      message.ack();
    } catch (error) {
      if (error instanceof LlmRefused) {
        await failDraft(deps.db, body.data.draft_id, error.message, `queue:${message.id}`);
        message.ack();
      } else if (error instanceof RetryLater) {
        logger.warn("draft paused; retrying", { draft_id: body.data.draft_id, reason: error.message, delay_seconds: error.delaySeconds });
        message.retry({ delaySeconds: Math.max(error.delaySeconds, 1) });
      } else {
        logger.warn("draft message failed; retrying", errorFields(error));
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }
  }
}

export async function consumeDraftDeadLetters(batch: MessageBatch<unknown>, context: ConsumerContext) {
  const { db } = draftDependencies(context.config, context.logger);
  for (const message of batch.messages) {
    const body = draftMessageSchema.safeParse(message.body);
    if (body.success) await failDraft(db, body.data.draft_id, DEAD_LETTER_DRAFT_ERROR, `queue:${message.id}`);
    message.ack();
  }
}
