import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { protectedRoute } from "../../lib/routes.ts";
import { FileVersionSchema } from "../files/files.presenters.ts";
import { qParameter } from "../search/text-search.ts";
import { FileTableRowSchema, FileTableSchema } from "./parsing.presenters.ts";

const TAG = "Parsing";

const id = (name: string) => z.coerce.number().int().positive().openapi({ param: { name, in: "path" } });

export const listVersionTables = protectedRoute({
  method: "get",
  path: "/file-versions/{version_id}/tables",
  operationId: "listVersionTables",
  tags: [TAG],
  summary: "The tables a parsed file version became (one per sheet; pages or paragraphs for documents)",
  request: { params: z.object({ version_id: id("version_id") }) },
  responses: {
    200: {
      description: "The version's current tables; empty while the first parse runs or after it failed.",
      content: { "application/json": { schema: z.object({ data: z.array(FileTableSchema) }) } },
    },
  },
});

export const listTableRows = protectedRoute({
  method: "get",
  path: "/file-tables/{table_id}/rows",
  operationId: "listTableRows",
  tags: [TAG],
  summary: "A table's rows in row_index order, or those matching `q`, best first",
  request: { params: z.object({ table_id: id("table_id") }), query: z.object({ limit: limitSchema, cursor: cursorSchema, q: qParameter }) },
  responses: { 200: { description: "A page of rows.", content: { "application/json": { schema: pageSchema(FileTableRowSchema) } } } },
});

export const reparseVersion = protectedRoute({
  method: "post",
  path: "/file-versions/{version_id}/reparse",
  operationId: "reparseFileVersion",
  tags: [TAG],
  summary: "Parse the version again; the new tables replace the current ones atomically when the parse succeeds",
  request: { params: z.object({ version_id: id("version_id") }) },
  responses: {
    202: { description: "Queued: the version, parse_status queued.", content: { "application/json": { schema: FileVersionSchema } } },
    ...problem("conflict", "The version has no completed upload yet."),
    ...problem("service_unavailable", "The parse could not be queued; the version is marked failed, request again."),
  },
});
