/**
 * The export's rows after a position, chunk by chunk in keyset order, with two chunk
 * queries in flight: the database renders one chunk while the next is on its way and
 * the writer writes a third. A chunk's query tells where the chunk after its successor
 * starts (`ahead`, export-rows.ts), so that one is asked for as soon as the chunk
 * arrives, not when its successor does.
 *
 * The prediction holds only if the rows do not move in between (an `all` export of jobs
 * being deleted, a job approved during an `approved` export): each chunk's own `next` is
 * checked against the start of the chunk asked for after it, and on a mismatch that
 * chunk is dropped and asked for again from the right place. Every chunk therefore
 * starts exactly where the one before it ended, as with one query at a time.
 */
import type { ExportRow } from "./export-format.ts";
import type { ExportChunk } from "./export-rows.ts";
import type { RowKey } from "./export-state.ts";

export type ChunkSizing = { chunkRows: number; chunkBytes: number };

/** Reads up to `limit` rows after `after`, telling where the chunk of `ahead` rows after them ends. */
export type ChunkReader = (after: RowKey | null, limit: number, ahead: number) => Promise<ExportChunk>;

// Small enough that even rows of a few hundred kilobytes stay far below the 10 MB answer limit.
const FIRST_CHUNK_ROWS = 20;

/** Chunk queries in flight at once: one being rendered by the database while another travels. */
const IN_FLIGHT = 2;

type Asked = { start: RowKey | null; limit: number; ahead: number; chunk: Promise<ExportChunk> };

/** Rows for the next chunk: as many as fit in chunkBytes at the last chunk's average row size. */
function nextChunkRows(rows: ExportRow[], sizing: ChunkSizing): number {
  let characters = 0;
  for (const row of rows) characters += row.line.length;
  const perRow = Math.max(1, characters / Math.max(1, rows.length));
  return Math.max(1, Math.min(sizing.chunkRows, Math.floor(sizing.chunkBytes / perRow)));
}

function sameKey(a: RowKey | null, b: RowKey | null): boolean {
  return a === null || b === null ? a === b : a.job_id === b.job_id && a.row_index === b.row_index;
}

export async function* chunksAfter(read: ChunkReader, start: RowKey | null, sizing: ChunkSizing): AsyncGenerator<ExportRow[]> {
  // A first, small chunk measures the rows before a full-size one is asked for.
  let estimate = Math.min(sizing.chunkRows, FIRST_CHUNK_ROWS);
  const asked: Asked[] = [];
  const ask = (from: RowKey | null, limit: number) => {
    const chunk = read(from, limit, estimate);
    // A chunk nobody awaits (the writer stopped, or it was dropped) must not surface as an unhandled rejection.
    chunk.catch(() => undefined);
    asked.push({ start: from, limit, ahead: estimate, chunk });
  };
  ask(start, estimate);
  while (asked.length > 0) {
    const current = asked.shift()!;
    const chunk = await current.chunk;
    if (chunk.rows.length > 0) estimate = nextChunkRows(chunk.rows, sizing);
    if (asked.length > 0 && !sameKey(asked[0]!.start, chunk.next)) asked.length = 0;
    if (chunk.next) {
      // The successor has `current.ahead` rows: the size `chunk.ahead` was predicted with.
      // So a chunk's size follows the rows three chunks back rather than one; chunkBytes
      // leaves room for that under the answer limit (export-writer.ts).
      if (asked.length === 0) ask(chunk.next, current.ahead);
      if (asked.length < IN_FLIGHT && chunk.ahead) ask(chunk.ahead, asked[0]!.ahead);
      // A request leaves only when the isolate returns to its event loop, and writing a
      // chunk's rows keeps it busy for about 100 ms: without this turn the database waited
      // for the writer and the writer for the database (BENCHMARKS.md, "Export at 0.78 of COPY").
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    yield chunk.rows;
  }
}
