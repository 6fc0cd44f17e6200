/**
 * A run's violations as CSV (row_index, column, rule, value), streamed page by page so a
 * run with millions of violations never sits in memory. Every page is read with the
 * run's access check (listViolations), so the first page also decides the answer's
 * status before any byte is sent, and a caller whose access is revoked mid-download gets
 * no further page. Cells are formula-neutralised as exports' are (csvField).
 */
import type { Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { csvField } from "../exports/export-format.ts";
import type { ViolationView } from "./validations.presenters.ts";
import { listViolations } from "./validations.service.ts";

const PAGE_ROWS = 5_000;
const HEADER = "row_index,column,rule,value\r\n";

function line(violation: ViolationView): string {
  return `${violation.row_index},${csvField(violation.column)},${violation.rule},${violation.value === null ? "" : csvField(violation.value)}\r\n`;
}

export async function violationsCsv(ctx: AuthenticatedContext, validationId: number): Promise<ReadableStream<Uint8Array>> {
  const encoder = new TextEncoder();
  let page: Page<ViolationView> | null = await listViolations(ctx, validationId, { limit: PAGE_ROWS });
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!page) {
        controller.close();
        return;
      }
      const text = (headerSent ? "" : HEADER) + page.data.map(line).join("");
      headerSent = true;
      controller.enqueue(encoder.encode(text));
      page = page.next_cursor ? await listViolations(ctx, validationId, { limit: PAGE_ROWS, cursor: page.next_cursor }) : null;
    },
  });
}
