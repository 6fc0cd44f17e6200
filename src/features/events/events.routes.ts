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

export const streamEvents = protectedRoute({
  method: "get",
  path: "/events/stream",
  operationId: "streamEvents",
  tags: ["Audit"],
  summary: "The audit log as it happens (Server-Sent Events), within what the caller can see",
  description: [
    "A `text/event-stream` that stays open: each event the caller may see (the same access as `GET /events`) is sent within about a second of its commit, oldest first,",
    "as `id: <event_id>`, `event: event`, `data: <Event JSON>`. `event: progress` frames (`{kind: parse | export, id, done, total, status, project_id}`) report running parses and exports;",
    "comment lines keep the connection alive every 15 s. Reconnect with `Last-Event-ID: <the last id received>` to resume without loss or duplicates;",
    "without it the stream starts after the newest event. Authenticate with the `Authorization` header as everywhere (read the stream with `fetch`, not `EventSource`).",
    "Roles without event:read get 403. README \"Live event stream\".",
  ].join(" "),
  request: {
    headers: z.object({
      "last-event-id": z
        .string()
        .regex(/^\d{1,15}$/, "must be an event_id")
        .optional()
        .openapi({ description: "Resume after this event_id (the `id:` of the last event received)." }),
    }),
  },
  responses: {
    200: {
      description: "The stream of events and progress, open until the client disconnects.",
      content: { "text/event-stream": { schema: z.string().openapi({ example: 'id: 42\nevent: event\ndata: {"event_id":42,"action":"project.update",…}\n\n' }) } },
    },
  },
});
