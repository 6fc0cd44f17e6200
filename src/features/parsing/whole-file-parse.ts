/**
 * XLSX and PDF: neither can resume from a byte offset (a ZIP entry's deflate stream and
 * pdf.js both need what came before), so each is parsed in one invocation, bounded by
 * PARSE_LIMITS.wholeFileBytes and refused clearly above it. Rows are still written in
 * batches as they are read, with progress; a retry after a crash parses again from the
 * start and its idempotent writes land on the same (table_id, row_index) keys.
 */
import { r2Source, readWhole } from "./byte-source.ts";
import { firstCursor } from "./cursor.ts";
import { describeBytes, PARSE_LIMITS } from "./limits.ts";
import { ParseError } from "./parse-error.ts";
import { beginParse, finishParse, finishStatement, writeRows, type TableRef } from "./parse-job.service.ts";
import type { ParseOutcome, ParseRun } from "./parse-run.ts";
import { readPdfPages } from "./readers/pdf.ts";
import { readWorkbookParts } from "./readers/xlsx-parts.ts";
import { readWorkbookSheets } from "./readers/xlsx-sheets.ts";
import { TableBuilder } from "./table-builder.ts";
import { tableNameOf } from "./table-name.ts";

/** Thrown when a write finds the parse no longer this run's (finished by a duplicate, or superseded). */
class NoLongerCurrent extends Error {}

async function begin(run: ParseRun, format: "xlsx" | "pdf", tables: { position: number; name: string }[]): Promise<TableRef[] | null> {
  if (run.job.cursor) return run.job.tables;
  const cursor = firstCursor({ format, encoding: "utf-8", delimiter: null, total: run.job.size_bytes, start: 0 });
  const begun = await beginParse(run.deps.db, run.job, run.generation, cursor, tables);
  return begun.begun ? begun.tables : null;
}

async function flush(run: ParseRun, builder: TableBuilder, progress: number): Promise<void> {
  if (builder.buffer.count === 0) return;
  const live = await writeRows(run.deps.db, run.job, run.generation, { tableId: builder.tableId, rows: builder.buffer.take(), progress });
  if (!live) throw new NoLongerCurrent();
}

async function finish(run: ParseRun, builders: TableBuilder[], requirementsTableId: number | null): Promise<ParseOutcome> {
  const statement = finishStatement(run.job, run.generation, run.actor, {
    tables: builders.map((builder) => builder.finished()),
    claimOffset: null,
    requirementsTableId,
  });
  return (await finishParse(run.deps.db, statement)) ? "succeeded" : "duplicate";
}

async function* counted(pieces: AsyncIterable<Uint8Array>, count: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  for await (const piece of pieces) {
    count(piece.length);
    yield piece;
  }
}

async function parseWorkbook(run: ParseRun): Promise<ParseOutcome> {
  const source = r2Source(run.deps.bucket, run.job.r2_key, run.job.size_bytes);
  const parts = await readWorkbookParts(source.read(0), run.job.size_bytes);
  const tables = await begin(run, "xlsx", parts.sheets.map((sheet, position) => ({ position, name: sheet.name })));
  if (!tables) return "duplicate";
  const builders = new Map(tables.map((table) => [table.position, new TableBuilder(table.table_id, "typed", `sheet "${parts.sheets[table.position]?.name}"`)]));

  let progress = 0;
  for await (const batches of readWorkbookSheets(counted(source.read(0), (bytes) => (progress += bytes)), parts, run.job.size_bytes)) {
    for (const batch of batches) {
      const builder = builders.get(batch.position);
      if (!builder) continue;
      if (batch.header) builder.stats.declare(batch.header, `sheet "${parts.sheets[batch.position]?.name}", the header`);
      for (const row of batch.rows) {
        builder.add(row);
        if (builder.buffer.isFull(run.options)) await flush(run, builder, progress);
      }
    }
  }
  for (const builder of builders.values()) await flush(run, builder, progress);
  return finish(run, [...builders.values()], null);
}

async function parsePdf(run: ParseRun): Promise<ParseOutcome> {
  const bytes = await readWhole(run.deps.bucket, run.job.r2_key);
  const pages = await readPdfPages(bytes);
  const tables = await begin(run, "pdf", [{ position: 0, name: tableNameOf(run.job.filename) }]);
  const table = tables?.[0];
  if (!table) return "duplicate";
  const builder = new TableBuilder(table.table_id, "typed", "the document");
  for (const page of pages) {
    builder.add(page);
    if (builder.buffer.isFull(run.options)) await flush(run, builder, 0);
  }
  await flush(run, builder, 0);
  return finish(run, [builder], run.job.file_type === "requirement" ? table.table_id : null);
}

export async function parseWholeFile(run: ParseRun, format: "xlsx" | "pdf"): Promise<ParseOutcome> {
  const limit = PARSE_LIMITS.wholeFileBytes;
  if (run.job.size_bytes > limit) {
    const what = format === "xlsx" ? "XLSX workbooks" : "PDF documents";
    throw new ParseError(`${what} larger than ${describeBytes(limit)} cannot be parsed (this one is ${describeBytes(run.job.size_bytes)}); split it${format === "xlsx" ? " or export it as CSV" : ""}.`);
  }
  try {
    return format === "xlsx" ? await parseWorkbook(run) : await parsePdf(run);
  } catch (error) {
    if (error instanceof NoLongerCurrent) return "duplicate";
    throw error;
  }
}
