import { createRoute, z } from "@hono/zod-openapi";
import { commonErrors, problem } from "../../lib/openapi-responses.ts";
import { LIVENESS_PATH } from "./liveness.ts";

export const getHealth = createRoute({
  method: "get",
  path: LIVENESS_PATH,
  operationId: "getHealth",
  tags: ["Meta"],
  summary: "Liveness: the Worker answers",
  security: [],
  responses: {
    200: {
      description: "The Worker is up.",
      content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
    },
    ...commonErrors,
  },
});

export const getDatabaseHealth = createRoute({
  method: "get",
  path: "/health/db",
  operationId: "getDatabaseHealth",
  tags: ["Meta"],
  summary: "Readiness: a query reaches Postgres, with its round-trip time",
  security: [],
  responses: {
    200: {
      description: "Postgres answered.",
      content: {
        "application/json": {
          schema: z.object({ status: z.literal("ok"), round_trip_ms: z.number().openapi({ example: 42.5 }) }),
        },
      },
    },
    ...problem("service_unavailable", "Postgres did not answer."),
    ...commonErrors,
  },
});
