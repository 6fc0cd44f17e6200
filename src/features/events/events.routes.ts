import { z } from "@hono/zod-openapi";
import { STORABLE_DATE_MESSAGE, storableDate } from "../../lib/input-bounds.ts";
import { cursorSchema, limitSchema, pageSchema } from "../../lib/pagination.ts";
import { protectedRoute } from "../../lib/routes.ts";
import { EventSchema } from "./events.presenters.ts";

const timestamp = (description: string) =>
  z.iso.datetime({ offset: true }).refine(storableDate, STORABLE_DATE_MESSAGE).optional().openapi({ description });

export const listEvents = protectedRoute({
  method: "get",
  path: "/events",
  operationId: "listEvents",
  tags: ["Audit"],
  summary: "The audit log, newest first, within what the caller can see",
  description:
    "Admins see every event; client admins their organization's; pms those of the projects they run; everyone with event:read also the events they caused. Roles without event:read get 403.",
  request: {
    query: z
      .object({
        limit: limitSchema,
        cursor: cursorSchema,
        entity_type: z.string().min(1).max(64).optional().openapi({ description: "A table name: project, file, file_version, annotation_job, …" }),
        entity_id: z.coerce.number().int().positive().optional(),
        actor_id: z.coerce.number().int().positive().optional(),
        action: z.string().min(1).max(128).optional().openapi({ example: "project.update" }),
        project_id: z.coerce.number().int().positive().optional(),
        since: timestamp("Events at or after this time (ISO 8601)."),
        until: timestamp("Events before this time (ISO 8601)."),
      })
      .refine((query) => !query.since || !query.until || Date.parse(query.since) <= Date.parse(query.until), {
        message: "must not be after until",
        path: ["since"],
      }),
  },
  responses: { 200: { description: "A page of events.", content: { "application/json": { schema: pageSchema(EventSchema) } } } },
});
