import { z } from "@hono/zod-openapi";
import { problem } from "../../lib/openapi-responses.ts";
import { pathId, protectedRoute } from "../../lib/routes.ts";
import { TableProfileSchema } from "./dataset-profile.presenters.ts";

export const getTableProfile = protectedRoute({
  method: "get",
  path: "/file-tables/{table_id}/profile",
  operationId: "getTableProfile",
  tags: ["Dataset quality"],
  summary: "A parsed table's column statistics, computed while it was parsed",
  request: { params: z.object({ table_id: pathId("table_id") }) },
  responses: {
    200: { description: "The profile.", content: { "application/json": { schema: TableProfileSchema } } },
    ...problem("conflict", "The table was parsed before profiles existed (or was not parsed): reparse its version to profile it."),
  },
});
