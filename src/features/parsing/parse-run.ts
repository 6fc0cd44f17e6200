/**
 * The parse queue's work for one message: a plain function (the consumer and the tests
 * call it alike). Bad data fails the version at once with a readable parse_error; any
 * other error is thrown, so the message is retried with back-off and, after the last
 * retry, lands in the dead-letter queue.
 */
import type { Database } from "../../db/client.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ParseMessage } from "../../queues/messages.ts";
import { readHead } from "./byte-source.ts";
import { beginChunkedParse, continueChunkedParse } from "./chunked-parse.ts";
import { detectFormat, isWholeFileFormat } from "./formats.ts";
import { PARSE_LIMITS } from "./limits.ts";
import { ParseError } from "./parse-error.ts";
import { failParse, loadParseJob, systemActor, type ParseJob, type SystemActor } from "./parse-job.service.ts";
import { parseWholeFile } from "./whole-file-parse.ts";

export type ParseDependencies = { db: Database; bucket: R2Bucket; queue: Queue<ParseMessage>; logger: Logger };

/**
 * Test seams: make a chunk fail right before or right after its commit, or send its commit
 * yourself (to hold it back, or see its claim). Production passes none.
 */
export type ChunkFaults = {
  /** Each time a chunk's commit is sent (again, if it claimed nothing for being early). */
  beforeCommit?(chunk: number): void;
  afterCommit?(chunk: number): void;
  sendCommit?(chunk: number, send: () => Promise<boolean>): Promise<boolean>;
};

export type ParseOptions = {
  chunkRows: number;
  chunkPayloadBytes: number;
  /** Lines per chunk of an llm_output import; absent: `chunkRows`. */
  importChunkLines?: number;
  /** Wall time one message keeps committing chunks; absent or 0: one chunk per message. */
  sliceMs?: number;
  faults?: ChunkFaults;
};

export const DEFAULT_PARSE_OPTIONS: ParseOptions = {
  chunkRows: PARSE_LIMITS.chunkRows,
  chunkPayloadBytes: PARSE_LIMITS.chunkPayloadBytes,
  importChunkLines: PARSE_LIMITS.importChunkLines,
  sliceMs: PARSE_LIMITS.sliceMs,
};

export type ParseOutcome =
  /** The version no longer exists. */
  | "missing"
  /** A reparse started a newer generation; this message belongs to an older one. */
  | "superseded"
  /** The parse already succeeded or failed. */
  | "finished"
  /**
   * Another delivery did (or is doing) this work, or the parse has ended: this one began
   * nothing, or stopped at the first chunk whose claim it lost.
   */
  | "duplicate"
  /** The chunk was already committed but its successor's message may not have been sent: sent now. */
  | "handed-off"
  | "chunk-committed"
  | "succeeded"
  | "failed";

export type ParseRun = {
  job: ParseJob;
  generation: number;
  deps: ParseDependencies;
  options: ParseOptions;
  actor: SystemActor;
};

async function advance(run: ParseRun, offset: number | undefined): Promise<ParseOutcome> {
  const { job } = run;
  if (!job.cursor) {
    const head = await readHead(run.deps.bucket, job.r2_key, job.size_bytes, PARSE_LIMITS.headBytes);
    const detected = detectFormat(head, { filename: job.filename, contentType: job.content_type }, head.length >= job.size_bytes);
    if (job.file_type === "llm_output" && detected.format !== "jsonl") {
      throw new ParseError(`An llm_output file must be JSON Lines ({row_index, question, value, score?, agent} per line); this one reads as ${detected.format}.`);
    }
    return isWholeFileFormat(detected.format) ? parseWholeFile(run, detected.format) : beginChunkedParse(run, detected);
  }
  // Whole-file formats keep no position: a retry parses again from the start, idempotently.
  if (isWholeFileFormat(job.cursor.format)) return parseWholeFile(run, job.cursor.format);
  return continueChunkedParse(run, job.cursor, offset ?? job.cursor.start);
}

export async function runParseMessage(
  body: ParseMessage,
  deps: ParseDependencies,
  options: ParseOptions = DEFAULT_PARSE_OPTIONS,
  messageId = "direct",
): Promise<ParseOutcome> {
  const job = await loadParseJob(deps.db, body.version_id);
  if (!job) return "missing";
  // Without a generation the message is the upload's own, for the first parse (generation 0).
  const generation = body.generation ?? 0;
  if (generation !== job.parse_generation) return "superseded";
  if (job.parse_status === "succeeded" || job.parse_status === "failed") return "finished";
  // The upload's completion may not be visible yet: worth a retry, not a failure.
  if (job.status !== "ready") throw new Error(`file version ${job.version_id} has no completed upload yet`);

  const run: ParseRun = { job, generation, deps, options, actor: systemActor(messageId) };
  try {
    return await advance(run, body.offset);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    deps.logger.info("parse failed on bad data", { version_id: job.version_id, parse_error: error.message });
    await failParse(deps.db, job.version_id, generation, error.message, run.actor);
    return "failed";
  }
}
