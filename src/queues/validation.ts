/**
 * The `validation` queue and its dead-letter queue; the work is runValidation
 * (features/validations/validation-run.ts), a plain function of a database. A slice that
 * runs out of time sends the continuation; a run whose messages keep failing is marked
 * failed by the dead-letter consumer.
 */
import { createDatabase } from "../db/client.ts";
import { failValidation, runValidation } from "../features/validations/validation-run.ts";
import type { ConsumerContext } from "./consume.ts";
import type { ValidationMessage } from "./messages.ts";

export async function consumeValidationMessage(body: ValidationMessage, message: Message<unknown>, context: ConsumerContext): Promise<void> {
  const outcome = await runValidation(createDatabase(context.config), body.validation_id, undefined, message.id);
  if (outcome === "continue") {
    await context.config.VALIDATION_QUEUE.send({ kind: "validation", validation_id: body.validation_id } satisfies ValidationMessage, { contentType: "json" });
  }
}

export async function consumeValidationDeadLetter(body: ValidationMessage, message: Message<unknown>, context: ConsumerContext): Promise<void> {
  context.logger.warn("validation dead-lettered; run marked failed", { validation_id: body.validation_id });
  await failValidation(createDatabase(context.config), body.validation_id, message.id);
}
