/**
 * PDF text per page through unpdf (pdf.js built for serverless runtimes). pdf.js needs
 * the whole document in memory, so PDFs are parsed whole, up to
 * PARSE_LIMITS.wholeFileBytes. Each page becomes a row `{ page, text }`; a page without
 * text (a scan) is an empty string, so page numbers stay aligned.
 *
 * Hostile documents are bounded before and while pdf.js works: what their streams
 * inflate to (pdf-streams.ts), their pages (PARSE_LIMITS.pdfPages, read from the page
 * tree before any page is), the text extracted (PARSE_LIMITS.pdfTextChars, counted
 * page by page; pages are read one at a time, not all at once as unpdf's extractText
 * does, so only one page's content is held) and the time it takes
 * (PARSE_LIMITS.pdfExtractMs).
 *
 * unpdf is half the bundle and only PDFs need it: imported on first use, so an isolate
 * that never parses a PDF never evaluates it (the bundler keeps it in the one file, its
 * top level deferred), and cold starts stay short.
 */
import type { getDocumentProxy } from "unpdf";
import { describeCount, PARSE_LIMITS } from "../limits.ts";
import { ParseError } from "../parse-error.ts";
import { assertPdfInflatedSize } from "./pdf-streams.ts";

// A type-only import: erased from the bundle, so unpdf still loads on first use.
type PdfDocument = Awaited<ReturnType<typeof getDocumentProxy>>;

async function pageTexts(document: PdfDocument): Promise<string[]> {
  const pages = document.numPages;
  if (pages > PARSE_LIMITS.pdfPages) {
    throw new ParseError(`The PDF has ${describeCount(pages)} pages; the limit is ${describeCount(PARSE_LIMITS.pdfPages)} pages.`);
  }
  const texts: string[] = [];
  let chars = 0;
  const deadline = Date.now() + PARSE_LIMITS.pdfExtractMs;
  for (let number = 1; number <= pages; number++) {
    const page = await document.getPage(number);
    const content = await page.getTextContent();
    // The same text as unpdf's extractText: each item's string, a line break where pdf.js saw one.
    const text = content.items.map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : "")).join("");
    page.cleanup();
    chars += text.length;
    if (chars > PARSE_LIMITS.pdfTextChars) {
      const limit = describeCount(PARSE_LIMITS.pdfTextChars);
      throw new ParseError(`The PDF's text passes ${limit} characters at page ${number}; the limit is ${limit} characters of text.`);
    }
    texts.push(text);
    // A page's work is not known in advance (pages can share one large content stream, or
    // draw the same form many times), so time bounds it. Waiting on a timer is what lets
    // a Worker's clock move on, which it does not during computation.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (Date.now() > deadline) {
      const limit = PARSE_LIMITS.pdfExtractMs / 1000;
      throw new ParseError(`Reading the PDF's text took more than ${limit} s (stopped after page ${number} of ${pages}); the limit is ${limit} s.`);
    }
  }
  return texts;
}

export async function readPdfPages(bytes: Uint8Array): Promise<{ page: number; text: string }[]> {
  assertPdfInflatedSize(bytes);
  let texts: string[];
  const { getDocumentProxy } = await import("unpdf");
  try {
    const document = await getDocumentProxy(bytes);
    try {
      texts = await pageTexts(document);
    } finally {
      await document.destroy();
    }
  } catch (error) {
    if (error instanceof ParseError) throw error;
    const name = (error as Error).name;
    if (name === "PasswordException") throw new ParseError("The PDF is password-protected; upload it without a password.");
    throw new ParseError(`The PDF cannot be read (${(error as Error).message}).`);
  }
  return texts.map((pageText, index) => ({ page: index + 1, text: pageText.replaceAll("\u0000", "") }));
}
