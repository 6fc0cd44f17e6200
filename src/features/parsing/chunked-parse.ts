/**
 * Streamed formats (CSV and kin, JSON array, JSON Lines, text, Markdown), one chunk per
 * queue message. A chunk reads from the saved cursor's byte offset until it holds
 * `chunkRows` rows or `chunkPayloadBytes` of them, commits rows + cursor in one
 * statement, and only then sends the message for the next chunk. Exactly once follows:
 * - a chunk message is acted on only when the saved cursor is at its offset, and the
 *   commit re-checks that under the row lock, so of two deliveries one writes;
 * - a crash after the commit but before the next message was sent leaves the cursor
 *   ahead of the message and `handed_off` false: the retried message sends it then;
 * - rows are keyed (table_id, row_index) and inserted ON CONFLICT DO NOTHING.
 */
import { textSource, type ByteSource } from "./byte-source.ts";
import { toTableColumns } from "./column-types.ts";
import type { ParseCursor } from "./cursor.ts";
import { isDocumentFormat, type DetectedFormat } from "./formats.ts";
import { beginParse, commitChunk, finishStatement, markHandedOff } from "./parse-job.service.ts";
import type { ParseOutcome, ParseRun } from "./parse-run.ts";
import { openReader } from "./readers/open-reader.ts";
import { RowBuffer } from "./row-buffer.ts";
import { TableStats } from "./table-stats.ts";
import { tableNameOf } from "./table-name.ts";

async function handOff(run: ParseRun, offset: number): Promise<void> {
  const { job, generation } = run;
  await run.deps.queue.send({ kind: "parse", version_id: job.version_id, generation, offset }, { contentType: "json" });
  await markHandedOff(run.deps.db, job, generation, offset);
}

function sourceOf(run: ParseRun, text: { encoding: ParseCursor["encoding"]; total?: number }): Promise<ByteSource> {
  return textSource(run.deps.bucket, run.job.r2_key, run.job.size_bytes, text.encoding, text.total);
}

async function runChunk(run: ParseRun, cursor: ParseCursor, source: ByteSource): Promise<ParseOutcome> {
  const { job, generation, options } = run;
  const table = job.tables.find((candidate) => candidate.position === 0);
  if (!table) throw new Error(`file version ${job.version_id} has a parse cursor but no table`);

  const stats = new TableStats(cursor.columns, cursor.format === "csv" ? "text" : "typed");
  const rows = new RowBuffer();
  const next: ParseCursor = { ...cursor, handed_off: false };
  let done = true;

  const reader = openReader(cursor, source, {
    offset: cursor.offset,
    line: cursor.line,
    rowIndex: cursor.row_index,
    header: cursor.header,
    state: cursor.reader_state,
  });
  read: for await (const batch of reader) {
    if (batch.header) {
      stats.declare(batch.header, "the header");
      next.header = batch.header;
    }
    for (const row of batch.rows) {
      if (rows.isFull(options)) {
        done = false;
        break read;
      }
      stats.observe(row.data, `row_index ${next.row_index}`);
      rows.push(next.row_index, row.data);
      next.row_index += 1;
      next.offset = row.end;
      next.line = row.nextLine;
      next.reader_state = row.state ?? next.reader_state;
    }
  }
  next.chunk += 1;
  next.columns = stats.snapshot();

  options.faults?.beforeCommit?.(next.chunk);
  const finish = done
    ? finishStatement(job, generation, run.actor, {
        tables: [{ table_id: table.table_id, columns: toTableColumns(next.columns, next.row_index), row_count: next.row_index }],
        claimOffset: next.offset,
        requirementsTableId: job.file_type === "requirement" && isDocumentFormat(cursor.format) ? table.table_id : null,
      })
    : null;
  const committed = await commitChunk(run.deps.db, job, generation, {
    fromOffset: cursor.offset,
    next,
    tableId: table.table_id,
    rows: rows.take(),
    finish,
  });
  if (!committed) return "duplicate";
  options.faults?.afterCommit?.(next.chunk);
  if (done) return "succeeded";
  await handOff(run, next.offset);
  return "chunk-committed";
}

export async function beginChunkedParse(run: ParseRun, detected: DetectedFormat): Promise<ParseOutcome> {
  const source = await sourceOf(run, detected);
  // UTF-16 is transcoded without its byte-order mark; UTF-8 starts past its own.
  const start = detected.encoding === "utf-8" ? detected.bomLength : 0;
  const cursor: ParseCursor = {
    format: detected.format,
    encoding: detected.encoding,
    delimiter: detected.delimiter,
    total: source.size,
    start,
    offset: start,
    row_index: 0,
    line: 1,
    chunk: 0,
    header: null,
    reader_state: null,
    columns: [],
    // The message being handled is the one for the first chunk.
    handed_off: true,
  };
  const begun = await beginParse(run.deps.db, run.job, run.generation, cursor, [{ position: 0, name: tableNameOf(run.job.filename) }]);
  if (!begun.begun) return "duplicate";
  return runChunk({ ...run, job: { ...run.job, tables: begun.tables } }, cursor, source);
}

export async function continueChunkedParse(run: ParseRun, cursor: ParseCursor, offset: number): Promise<ParseOutcome> {
  if (offset === cursor.offset) return runChunk(run, cursor, await sourceOf(run, cursor));
  if (offset < cursor.offset && !cursor.handed_off) {
    await handOff(run, cursor.offset);
    return "handed-off";
  }
  return "duplicate";
}
