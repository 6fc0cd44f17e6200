import type { RowsPayload } from "./parse-job.service.ts";

/**
 * Rows on their way to one INSERT: serialised as they arrive (JSON text is both what
 * the statement takes and the measure of its size), so a chunk is cut by bytes as well
 * as by row count without serialising anything twice.
 */
export class RowBuffer {
  private parts: string[] = [];
  private size = 2;

  push(rowIndex: number, data: Record<string, unknown>): void {
    const part = JSON.stringify({ row_index: rowIndex, data });
    this.parts.push(part);
    this.size += part.length + 1;
  }

  get count(): number {
    return this.parts.length;
  }

  /** UTF-16 code units, which bound the UTF-8 bytes within a factor of 3: close enough for a limit. */
  get bytes(): number {
    return this.size;
  }

  isFull(limits: { chunkRows: number; chunkPayloadBytes: number }): boolean {
    return this.count >= limits.chunkRows || this.bytes >= limits.chunkPayloadBytes;
  }

  take(): RowsPayload {
    const payload = `[${this.parts.join(",")}]`;
    this.parts = [];
    this.size = 2;
    return payload;
  }
}
