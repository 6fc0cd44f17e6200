const NEWLINE = 0x0a;

/**
 * Line numbers for byte offsets of a stream read piece by piece: keeps only the pieces
 * not yet counted, so asking for offsets in order costs one pass over the bytes.
 */
export class NewlineCounter {
  private readonly pending: { start: number; bytes: Uint8Array }[] = [];
  private countedTo: number;
  private line: number;

  constructor(startOffset: number, startLine: number) {
    this.countedTo = startOffset;
    this.line = startLine;
  }

  append(piece: Uint8Array, start: number): void {
    this.pending.push({ start, bytes: piece });
  }

  /** The line number at `offset`; offsets must not decrease between calls. */
  lineAt(offset: number): number {
    while (this.countedTo < offset) {
      const piece = this.pending[0];
      if (!piece) break;
      const end = piece.start + piece.bytes.length;
      const stop = Math.min(end, offset);
      let at = this.countedTo - piece.start;
      const until = stop - piece.start;
      for (;;) {
        const found = piece.bytes.indexOf(NEWLINE, at);
        if (found === -1 || found >= until) break;
        this.line += 1;
        at = found + 1;
      }
      this.countedTo = stop;
      if (stop === end) this.pending.shift();
    }
    return this.line;
  }
}
