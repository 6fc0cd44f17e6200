import { z } from "@hono/zod-openapi";
import { actorKind } from "../../db/schema/enums.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";

/** bigint columns (event_id, entity_id) arrive from the HTTP driver as strings. */
export type EventRow = {
  event_id: number | string;
  org_id: number | null;
  project_id: number | null;
  actor_id: number | null;
  actor_kind: (typeof actorKind.enumValues)[number];
  action: string;
  entity_type: string;
  entity_id: number | string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
  created_at: string;
};

export const EventSchema = z
  .object({
    event_id: z.number().int(),
    org_id: z.number().int().nullable().openapi({ description: "The organization the event belongs to; null for platform-wide events." }),
    project_id: z.number().int().nullable(),
    actor_id: z.number().int().nullable().openapi({ description: "Who did it; null for the platform's own work (queue consumers)." }),
    actor_kind: z.enum(actorKind.enumValues),
    action: z.string().openapi({ example: "project.update", description: "`<entity_type>.<verb>`." }),
    entity_type: z.string().openapi({ example: "project", description: "The table the entity lives in." }),
    entity_id: z.number().int(),
    before: z.record(z.string(), z.unknown()).nullable().openapi({ description: "Old values of the changed fields." }),
    after: z.record(z.string(), z.unknown()).nullable().openapi({ description: "New values of the changed fields." }),
    request_id: z.string().nullable().openapi({ description: "X-Request-Id of the request that made the change." }),
    created_at: z.string(),
  })
  .openapi("Event");

export type EventView = z.infer<typeof EventSchema>;

export function presentEvent(row: EventRow): EventView {
  return {
    event_id: Number(row.event_id),
    org_id: row.org_id,
    project_id: row.project_id,
    actor_id: row.actor_id,
    actor_kind: row.actor_kind,
    action: row.action,
    entity_type: row.entity_type,
    entity_id: Number(row.entity_id),
    before: row.before,
    after: row.after,
    request_id: row.request_id,
    created_at: isoTimestamp(row.created_at),
  };
}
