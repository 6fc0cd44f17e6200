import type { z } from "zod";
import type { SharedConfig } from "../env.ts";
import { createLogger, errorFields, type Logger } from "../lib/logger.ts";

export type ConsumerContext = { config: SharedConfig; logger: Logger };

/** Exponential back-off for retried messages: 10 s, 20 s, 40 s … capped at 15 min. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(10 * 2 ** Math.max(0, attempts - 1), 900);
}

/**
 * Runs `work` for each message of a batch and settles each one explicitly: ack on
 * success, retry with back-off on failure. A body that does not match its schema can
 * never succeed; it is retried until the queue moves it to its dead-letter queue,
 * where it stays for inspection.
 */
export async function consumeEach<Body>(
  batch: MessageBatch<unknown>,
  schema: z.ZodType<Body>,
  context: ConsumerContext,
  work: (body: Body, message: Message<unknown>, context: ConsumerContext) => Promise<void>,
): Promise<void> {
  for (const message of batch.messages) {
    const logger = context.logger.child({ queue: batch.queue, message_id: message.id, attempts: message.attempts });
    const body = schema.safeParse(message.body);
    if (!body.success) {
      logger.error("malformed queue message", { issues: body.error.issues });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      continue;
    }
    try {
      await work(body.data, message, { ...context, logger });
      message.ack();
    } catch (error) {
      logger.warn("queue message failed; retrying", errorFields(error));
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

export function consumerLogger(queue: string): Logger {
  return createLogger({ queue });
}
