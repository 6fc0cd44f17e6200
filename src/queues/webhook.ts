/**
 * The `webhook` queue and its dead-letter queue. The work is deliverWebhook (a plain
 * function); this file binds it to a message. Retries of an endpoint are new, delayed
 * messages (the delivery's own schedule, up to 10 h apart), not queue retries, so a
 * message's retry budget is only spent when the consumer itself fails.
 */
import { createDatabase } from "../db/client.ts";
import { deliverWebhook } from "../features/webhooks/webhook-delivery.ts";
import { sendWebhookMessages } from "../features/webhooks/webhook-dispatch.ts";
import type { ConsumerContext } from "./consume.ts";
import type { WebhookMessage } from "./messages.ts";

export async function consumeWebhookMessage(body: WebhookMessage, _message: Message<unknown>, context: ConsumerContext): Promise<void> {
  const { config } = context;
  const outcome = await deliverWebhook(body.webhook_id, {
    db: createDatabase(config),
    logger: context.logger,
    secretKey: config.WEBHOOK_SECRET_KEY,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
  });
  if (outcome.next === "continue") await sendWebhookMessages(config.WEBHOOK_QUEUE, [body.webhook_id]);
  // Queues delay a message by at most 12 h; the longest step of the schedule is 10 h.
  if (outcome.next === "later") await sendWebhookMessages(config.WEBHOOK_QUEUE, [body.webhook_id], Math.min(outcome.delaySeconds, 43_200));
}

/**
 * Nothing is lost with a dead letter: the deliveries stay pending in the database and the
 * dispatcher re-queues endpoints with due deliveries every minute. The letter is logged.
 */
export async function consumeWebhookDeadLetter(body: WebhookMessage, message: Message<unknown>, context: ConsumerContext): Promise<void> {
  context.logger.error("webhook message dead-lettered; the dispatcher will queue the endpoint again", { webhook_id: body.webhook_id, message_id: message.id });
}
