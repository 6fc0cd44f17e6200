import { emptyProfileState, type ProfileState } from "../dataset-profile/profile-builder.ts";
import type { ColumnStats } from "./column-types.ts";
import type { Delimiter } from "./delimiter.ts";
import type { FileFormat, TextEncoding } from "./formats.ts";
import type { ReaderState } from "./readers/reader.ts";

/**
 * Where a running parse stands, saved on file_version.parse_cursor in the same
 * statement as each chunk's rows. It is the single source of truth for resuming: a
 * chunk message only says which offset it is for, and is acted on only if that is where
 * the cursor stands.
 */
export type ParseCursor = {
  format: FileFormat;
  encoding: TextEncoding;
  delimiter: Delimiter | null;
  /** Size of the text being parsed (progress total). */
  total: number;
  /** Where the first chunk starts (past a byte-order mark): the offset of a message without one. */
  start: number;
  /** Next byte to read; every byte before it has its rows committed. */
  offset: number;
  /** Next row_index; also the table's row count so far. */
  row_index: number;
  /** Line number at `offset`, for error messages. */
  line: number;
  /** Chunks committed. */
  chunk: number;
  /** CSV: column names from the header, once read. */
  header: string[] | null;
  reader_state: ReaderState | null;
  columns: ColumnStats[];
  /**
   * The table's profile so far (features/dataset-profile). Absent on a cursor saved before
   * profiles existed: such a parse finishes without one rather than with a partial one.
   */
  profile?: ProfileState | null;
  /** Whether the message for the chunk at `offset` has been sent. */
  handed_off: boolean;
  /**
   * The delivery that saved it (an id per message handled; absent on a first cursor). Its
   * next commits may claim only while it is still theirs: once another delivery has taken
   * over, commits already in flight claim nothing (parsing/chunked-parse.ts).
   */
  claimed_by?: string;
};

/**
 * The cursor a parse begins with: nothing read yet, resuming at `start`. The message
 * being handled is the one for the first chunk, so its hand-off is done.
 */
export function firstCursor(origin: Pick<ParseCursor, "format" | "encoding" | "delimiter" | "total" | "start">): ParseCursor {
  return {
    ...origin,
    offset: origin.start,
    row_index: 0,
    line: 1,
    chunk: 0,
    header: null,
    reader_state: null,
    columns: [],
    profile: emptyProfileState(),
    handed_off: true,
  };
}
