import { createDatabase } from "../db/client.ts";
import { DEFAULT_PARSE_OPTIONS, runParseMessage, type ParseDependencies, type ParseOptions } from "../features/parsing/parse-run.ts";
import { failParse, systemActor } from "../features/parsing/parse-job.service.ts";
import { consumeEach, type ConsumerContext } from "./consume.ts";
import { parseMessageSchema, type ParseMessage } from "./messages.ts";

/**
 * Shown to users when a message used up its retries. Problems with the file itself fail
 * at once with their own message, so this is an outage or a bug, never the file's fault.
 */
export const DEAD_LETTER_PARSE_ERROR =
  "Parsing did not complete: it failed repeatedly on a temporary or internal error, not on the file's content. Request a reparse to try again.";

function dependencies(context: ConsumerContext): ParseDependencies {
  const { config, logger } = context;
  return { db: createDatabase(config), bucket: config.FILES, queue: config.PARSE_QUEUE as Queue<ParseMessage>, logger };
}

export function consumeParseBatch(batch: MessageBatch<unknown>, context: ConsumerContext, options: ParseOptions = DEFAULT_PARSE_OPTIONS) {
  const deps = dependencies(context);
  return consumeEach(batch, parseMessageSchema, context, async (body, message, { logger }) => {
    const outcome = await runParseMessage(body, { ...deps, logger }, options, message.id);
    logger.info("parse message handled", { version_id: body.version_id, generation: body.generation ?? null, offset: body.offset ?? null, outcome });
  });
}

/** A parse message that used up its retries: its version fails, so no parse stays "running" forever. */
export function consumeParseDeadLetters(batch: MessageBatch<unknown>, context: ConsumerContext) {
  const { db } = dependencies(context);
  return consumeEach(batch, parseMessageSchema, context, async (body, message, { logger }) => {
    const failed = await failParse(db, body.version_id, body.generation ?? 0, DEAD_LETTER_PARSE_ERROR, systemActor(message.id));
    const fields = { version_id: body.version_id, generation: body.generation ?? 0 };
    if (failed) logger.warn("parse dead-lettered; version marked failed", fields);
    else logger.info("parse dead-lettered after its parse had ended; nothing to do", fields);
  });
}
