/**
 * Bad data: the file itself cannot be parsed. Final at once (retrying cannot help), and
 * its message becomes the version's parse_error, so it says what is wrong and where
 * (line, row_index, column, sheet, cell) in words a user can act on.
 */
export class ParseError extends Error {
  override name = "ParseError";
}
