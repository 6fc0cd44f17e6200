import { createRoute, z, type RouteConfig } from "@hono/zod-openapi";
import { authenticate } from "../middleware/authenticate.ts";
import { idempotent } from "./idempotency.ts";
import { authErrors, commonErrors } from "./openapi-responses.ts";

const idempotencyKeyHeader = {
  name: "Idempotency-Key",
  in: "header" as const,
  required: false,
  description: "Makes the POST safe to retry: a replay within 24 h returns the first response without repeating the work.",
  schema: { type: "string" as const, minLength: 1, maxLength: 255 },
};

/** A positive integer id in the path, e.g. `pathId("job_id")` for `/annotation-jobs/{job_id}`. */
export function pathId(name: string) {
  return z.coerce.number().int().positive().openapi({ param: { name, in: "path" } });
}

/** A request body that must be present and JSON of `schema`. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

type RouteDefinition = Omit<RouteConfig, "middleware" | "security">;

function withIdempotency<R extends RouteDefinition>(route: R) {
  if (route.method !== "post") return { route, middleware: [] as const };
  const parameters = [...((route as { parameters?: unknown[] }).parameters ?? []), idempotencyKeyHeader];
  return { route: { ...route, parameters }, middleware: [idempotent] as const };
}

/** A route that needs a signed-in caller: authentication, the shared error answers, and Idempotency-Key on POST. */
export function protectedRoute<R extends RouteDefinition>(definition: R) {
  const { route, middleware } = withIdempotency(definition);
  return createRoute({
    ...route,
    security: [{ bearerAuth: [] }],
    middleware: [authenticate, ...middleware] as const,
    // The route's own description of a shared status (e.g. what its 403 means) wins over the generic one.
    responses: { ...authErrors, ...commonErrors, ...definition.responses },
  } as R & { security: { bearerAuth: string[] }[]; middleware: [typeof authenticate] });
}

/** A route anyone may call (sign-up, sign-in): the shared error answers, and Idempotency-Key on POST. */
export function publicRoute<R extends RouteDefinition>(definition: R) {
  const { route, middleware } = withIdempotency(definition);
  return createRoute({
    ...route,
    security: [],
    middleware: [...middleware] as const,
    responses: { ...definition.responses, ...commonErrors },
  } as R & { security: never[] });
}
