/**
 * PDF text per page through unpdf (pdf.js built for serverless runtimes). pdf.js needs
 * the whole document in memory, so PDFs are parsed whole, up to
 * PARSE_LIMITS.wholeFileBytes. Each page becomes a row `{ page, text }`; a page without
 * text (a scan) is an empty string, so page numbers stay aligned.
 *
 * unpdf is half the bundle and only PDFs need it: imported on first use, so an isolate
 * that never parses a PDF never evaluates it (the bundler keeps it in the one file, its
 * top level deferred), and cold starts stay short.
 */
import { ParseError } from "../parse-error.ts";

export async function readPdfPages(bytes: Uint8Array): Promise<{ page: number; text: string }[]> {
  let text: string[];
  const { extractText, getDocumentProxy } = await import("unpdf");
  try {
    const document = await getDocumentProxy(bytes);
    try {
      ({ text } = await extractText(document, { mergePages: false }));
    } finally {
      await document.destroy();
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name === "PasswordException") throw new ParseError("The PDF is password-protected; upload it without a password.");
    throw new ParseError(`The PDF cannot be read (${(error as Error).message}).`);
  }
  return text.map((pageText, index) => ({ page: index + 1, text: pageText.replaceAll("\u0000", "") }));
}
