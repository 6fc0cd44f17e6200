import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { SchemaDiffSchema } from "./schema-diff.presenters.ts";

export const getSchemaDiff = protectedRoute({
  method: "get",
  path: "/file-versions/{version_id}/schema-diff",
  operationId: "getSchemaDiff",
  tags: ["Dataset quality"],
  summary: "Columns added, removed and retyped since the previous version of the file",
  request: { params: z.object({ version_id: pathId("version_id") }) },
  responses: {
    200: { description: "The difference, table by table.", content: { "application/json": { schema: SchemaDiffSchema } } },
    ...problem("conflict", "The version is not parsed (yet, or its parse failed)."),
  },
});
