/**
 * Plain text and Markdown as a table of paragraphs (columns `paragraph`, 1-based, and
 * `text`). Paragraphs are separated by blank or whitespace-only lines; their lines are
 * kept as written (LF-joined, CR dropped). In Markdown a fenced code block (``` or ~~~)
 * stays one paragraph however many blank lines it holds. A paragraph longer than
 * PARSE_LIMITS.paragraphBytes is split there, so memory stays bounded.
 */
import type { ByteSource } from "../byte-source.ts";
import { PARSE_LIMITS } from "../limits.ts";
import { assertNoNul, decodeUtf8 } from "../utf8.ts";
import { readLines } from "./lines.ts";
import type { ParsedRow, ReaderStart, RowReader } from "./reader.ts";

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

/** The fence open after `line`, given the one open before it. */
function nextFence(open: string | null, line: string): string | null {
  const match = FENCE.exec(line);
  if (!match) return open;
  const marker = match[1]!;
  if (open === null) return marker;
  const closes = marker[0] === open[0] && marker.length >= open.length && match[2]!.trim() === "";
  return closes ? null : open;
}

export async function* readParagraphs(source: ByteSource, start: ReaderStart, markdown: boolean): RowReader {
  let fence = start.state?.fence ?? null;
  let rowIndex = start.rowIndex;
  let lines: string[] = [];
  let size = 0;
  let lastEnd = start.offset;
  let lastLine = start.line;

  function paragraph(): ParsedRow {
    const row = { data: { paragraph: rowIndex + 1, text: lines.join("\n") }, end: lastEnd, nextLine: lastLine, state: { fence } };
    rowIndex += 1;
    lines = [];
    size = 0;
    return row;
  }

  const batches = readLines(source, start.offset, start.line, { maxBytes: PARSE_LIMITS.paragraphBytes, overlong: "split" });
  for await (const batch of batches) {
    const rows: ParsedRow[] = [];
    for (const line of batch) {
      const text = decodeUtf8(line.bytes, `line ${line.number}`);
      const inFence = fence !== null;
      if (markdown && line.complete) fence = nextFence(fence, text);
      if (!inFence && fence === null && text.trim() === "") {
        if (lines.length > 0) rows.push(paragraph());
        continue;
      }
      assertNoNul(text, `line ${line.number}`);
      lines.push(text);
      size += line.bytes.length + 1;
      lastEnd = line.end;
      lastLine = line.complete ? line.number + 1 : line.number;
      if (size >= PARSE_LIMITS.paragraphBytes) rows.push(paragraph());
    }
    yield { rows };
  }
  if (lines.length > 0) yield { rows: [paragraph()] };
}
