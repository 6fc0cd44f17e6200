/**
 * Streamed formats (CSV and kin, JSON array, JSON Lines, text, Markdown), in chunks of
 * `chunkRows` rows or `chunkPayloadBytes` of them. Each chunk commits its rows and the
 * advanced cursor in one statement. One message keeps reading and committing chunks for
 * `sliceMs`, then sends a message for the rest of the file. It reads the next chunk and
 * builds its statement while earlier ones commit, with up to `commitsInFlight` commits
 * sent and not yet settled: the parser's CPU, the request's travel and the database's
 * work overlap. Exactly once follows:
 * - a commit takes effect only if the saved cursor is at the chunk's start offset (its
 *   claim) and, but for a delivery's first commit, was saved by the same delivery
 *   (`claimed_by`): of two commits for one chunk, from one delivery or two, one writes
 *   it, and a delivery whose commit lost to another's writes nothing more;
 * - a commit sent while its predecessor is in flight waits at the database for the
 *   predecessor's row lock and claims once that has committed (chunkCommit's `follows`);
 *   if it got there before the predecessor's statement did, or the predecessor's rolled
 *   back (an import's plain INSERT meeting a stored suggestion), it claims nothing and is
 *   sent again once the predecessor has landed (commits settle in the order they were
 *   sent; see `settle`). A commit that loses otherwise lost to another delivery, or the
 *   parse ended (failed, or superseded by a reparse), and this delivery stops;
 * - a crash after a commit but before the next message was sent leaves the cursor
 *   ahead of the message and `handed_off` false: the retried message sends it then;
 * - rows are keyed (table_id, row_index) and inserted ON CONFLICT DO NOTHING.
 */
import { sql } from "drizzle-orm";
import { ProfileBuilder } from "../dataset-profile/profile-builder.ts";
import { textSource, type ByteSource } from "./byte-source.ts";
import { toTableColumns } from "./column-types.ts";
import { firstCursor, type ParseCursor } from "./cursor.ts";
import { isDocumentFormat, type DetectedFormat } from "./formats.ts";
import { beginParse, chunkCommit, finishStatement, markHandedOff } from "./parse-job.service.ts";
import type { ParseOutcome, ParseRun } from "./parse-run.ts";
import { openReader } from "./readers/open-reader.ts";
import { RowBuffer } from "./row-buffer.ts";
import { TableStats } from "./table-stats.ts";
import { tableNameOf } from "./table-name.ts";
import { ImportChunk, ImportWrites, loadImportTarget, type ImportTarget } from "../suggestions/llm-output-import.ts";
import { ParseError } from "./parse-error.ts";
import { PARSE_LIMITS } from "./limits.ts";

async function handOff(run: ParseRun, offset: number): Promise<void> {
  const { job, generation } = run;
  await run.deps.queue.send({ kind: "parse", version_id: job.version_id, generation, offset }, { contentType: "json" });
  await markHandedOff(run.deps.db, job, generation, offset);
}

function sourceOf(run: ParseRun, text: { encoding: ParseCursor["encoding"]; total?: number }): Promise<ByteSource> {
  return textSource(run.deps.bucket, run.job.r2_key, run.job.size_bytes, text.encoding, text.total);
}

/** A chunk's commit, built: the cursor it saves, its rows' size, and what sends it (again, if need be). */
type PreparedCommit = { next: ParseCursor; bytes: number; send(): Promise<boolean> };
/**
 * A chunk's commit in flight: whether this delivery's claim won (`answer` once known), and
 * whether it went out while an earlier one was in flight.
 */
type Commit = { prepared: PreparedCommit; claimed: Promise<boolean>; answer?: boolean; sentEarly: boolean };

/**
 * workerd writes a request's body to its socket only while the isolate waits on I/O, a
 * socket buffer at a time, and a 0 ms timer is no such wait. Parsing on straight after
 * sending a commit held its statement (about 400 KB for 5,000 suggestions) back for
 * 20–30 ms while the database sat idle, as timed at the gateway (BENCHMARKS.md,
 * "Suggestions import … in flight"); waiting 1 ms per 128 KiB of it lets it out first.
 */
const STATEMENT_BYTES_PER_WAIT = 128 * 1024;

async function letStatementOut(bytes: number): Promise<void> {
  for (let sent = 0; sent < bytes; sent += STATEMENT_BYTES_PER_WAIT) await new Promise((resolve) => setTimeout(resolve, 1));
}

async function runChunks(run: ParseRun, cursor: ParseCursor, source: ByteSource): Promise<ParseOutcome> {
  const { job, generation, options } = run;
  const table = job.tables.find((candidate) => candidate.position === 0);
  if (!table) throw new Error(`file version ${job.version_id} has a parse cursor but no table`);
  const sliceEnds = Date.now() + (options.sliceMs ?? 0);
  const importTarget = await importTargetOf(run);
  let imported = importTarget ? new ImportChunk(importTarget) : null;
  const writes = importTarget ? new ImportWrites() : null;
  // An llm_output file's lines become suggestions only: storing them as rows of a table
  // of its own as well would double the import's writes for rows no one annotates.
  const storesRows = importTarget === null;

  const stats = new TableStats(cursor.columns, cursor.format === "csv" ? "text" : "typed");
  const profile = cursor.profile ? new ProfileBuilder(cursor.profile, cursor.format === "csv") : null;
  const rows = new RowBuffer();
  /** Where the chunk being read starts: the cursor its commit is conditional on. */
  let from = cursor;
  /** Where this delivery's previous chunk starts (null before its first commit). */
  let predecessorOffset: number | null = null;
  /** Where it ends so far. */
  const position = { offset: cursor.offset, row_index: cursor.row_index, line: cursor.line, header: cursor.header, reader_state: cursor.reader_state };
  /** Commits sent and not yet settled, oldest first. */
  const inFlight: Commit[] = [];
  /** This delivery, as ParseCursor.claimed_by. */
  const delivery = crypto.randomUUID();

  /** The chunk read so far as a commit, built while earlier commits may still be in flight. */
  const prepare = (done: boolean): PreparedCommit => {
    const next: ParseCursor = {
      ...from, ...position, chunk: from.chunk + 1, columns: stats.snapshot(), profile: profile?.snapshot() ?? null, handed_off: false, claimed_by: delivery,
    };
    const columns = toTableColumns(next.columns, next.row_index);
    const finish = done
      ? finishStatement(job, generation, run.actor, {
          tables: [{ table_id: table.table_id, columns, row_count: storesRows ? next.row_index : 0, profile: profile?.result(columns) ?? null }],
          claimOffset: next.offset,
          requirementsTableId: job.file_type === "requirement" && isDocumentFormat(cursor.format) ? table.table_id : null,
        })
      : null;
    const bytes = imported?.bytes ?? rows.bytes;
    const statements = imported && writes ? writes.statements(imported, job.version_id, sql`claimed`) : null;
    const ifConflict = statements?.ifConflict && writes ? { also: statements.ifConflict, constraint: writes.key, noted: () => writes.conflict() } : null;
    if (importTarget) imported = new ImportChunk(importTarget);
    const built = chunkCommit(run.deps.db, job, generation, {
      fromOffset: from.offset, follows: predecessorOffset === null ? null : { delivery, predecessorOffset }, next, tableId: table.table_id, rows: rows.take(), finish, also: statements?.first ?? null, ifConflict,
    });
    predecessorOffset = from.offset;
    from = next;
    return { next, bytes, send: () => built.send() };
  };
  const send = (prepared: PreparedCommit): Commit => {
    options.faults?.beforeCommit?.(prepared.next.chunk);
    const claimed = options.faults?.sendCommit ? options.faults.sendCommit(prepared.next.chunk, prepared.send) : prepared.send();
    const commit: Commit = { prepared, claimed, sentEarly: inFlight.length > 0 };
    // Awaited when it settles, or in the finally below; never left unhandled meanwhile.
    claimed.then((answer) => (commit.answer = answer), () => {});
    return commit;
  };
  /**
   * Settles the oldest commit in flight (see the header); one sent early that claimed
   * nothing is sent again, as its predecessor has now landed. The commits after it settle
   * too while they are known to have claimed nothing or followed one sent again: a new
   * commit sent behind them would only find the cursor short of its predecessor's start.
   * True: the latest settled commit landed and this delivery carries on.
   */
  const settle = async (): Promise<boolean> => {
    for (let commit = inFlight.shift(); commit; commit = inFlight.shift()) {
      const first = await commit.claimed;
      if (!first) {
        // Only a commit sent early can have lost to its own predecessor; any other lost to another delivery.
        if (!commit.sentEarly) return false;
        run.deps.logger.info("parse commit sent again", { version_id: job.version_id, chunk: commit.prepared.next.chunk });
        if (!(await send(commit.prepared).claimed)) return false;
      }
      options.faults?.afterCommit?.(commit.prepared.next.chunk);
      if (first && inFlight[0]?.answer !== false) return true;
    }
    return true;
  };
  const settleAll = async (): Promise<boolean> => {
    while (inFlight.length > 0) if (!(await settle())) return false;
    return true;
  };

  const reader = openReader(cursor, source, {
    offset: cursor.offset,
    line: cursor.line,
    rowIndex: cursor.row_index,
    header: cursor.header,
    state: cursor.reader_state,
  });
  try {
    for await (const batch of reader) {
      if (batch.header) {
        stats.declare(batch.header, "the header");
        position.header = batch.header;
      }
      for (const row of batch.rows) {
        if (imported ? imported.isFull(options) : rows.isFull(options)) {
          const prepared = prepare(false);
          if (inFlight.length >= PARSE_LIMITS.commitsInFlight && !(await settle())) return "duplicate";
          inFlight.push(send(prepared));
          await letStatementOut(prepared.bytes);
          if (Date.now() >= sliceEnds) {
            // Every commit settled and the last one settled (this one) landed.
            if (!(await settleAll())) return "duplicate";
            await handOff(run, prepared.next.offset);
            return "chunk-committed";
          }
        }
        if (imported) {
          imported.add(row.nextLine - 1, row.data, row.end - position.offset);
        } else {
          stats.observe(row.data, `row_index ${position.row_index}`);
          profile?.observe(row.data);
          rows.push(position.row_index, row.data);
        }
        position.row_index += 1;
        position.offset = row.end;
        position.line = row.nextLine;
        position.reader_state = row.state ?? position.reader_state;
      }
    }
    const last = prepare(true);
    // The last commit finishes the parse: sent alone, once every other has landed.
    if (!(await settleAll())) return "duplicate";
    inFlight.push(send(last));
    return (await settle()) ? "succeeded" : "duplicate";
  } finally {
    // A parse error or a failed commit while others are in flight: let them settle first.
    await Promise.all(inFlight.map((commit) => commit.claimed.catch(() => {})));
  }
}

/** An llm_output version's import target (one read per message), or null for every other file. */
async function importTargetOf(run: ParseRun): Promise<ImportTarget | null> {
  if (run.job.file_type !== "llm_output") return null;
  const target = await loadImportTarget(run.deps.db, run.job.version_id);
  if (!target) throw new ParseError("This llm_output file has no target table to import its suggestions into (target_table_id at upload), or the table no longer exists.");
  return target;
}

export async function beginChunkedParse(run: ParseRun, detected: DetectedFormat): Promise<ParseOutcome> {
  const source = await sourceOf(run, detected);
  // UTF-16 is transcoded without its byte-order mark; UTF-8 starts past its own.
  const start = detected.encoding === "utf-8" ? detected.bomLength : 0;
  const cursor = firstCursor({ format: detected.format, encoding: detected.encoding, delimiter: detected.delimiter, total: source.size, start });
  const begun = await beginParse(run.deps.db, run.job, run.generation, cursor, [{ position: 0, name: tableNameOf(run.job.filename) }]);
  if (!begun.begun) return "duplicate";
  return runChunks({ ...run, job: { ...run.job, tables: begun.tables } }, cursor, source);
}

export async function continueChunkedParse(run: ParseRun, cursor: ParseCursor, offset: number): Promise<ParseOutcome> {
  if (offset === cursor.offset) return runChunks(run, cursor, await sourceOf(run, cursor));
  if (offset < cursor.offset && !cursor.handed_off) {
    await handOff(run, cursor.offset);
    return "handed-off";
  }
  return "duplicate";
}
