import { createRoute, z, type RouteConfig } from "@hono/zod-openapi";
import { authenticate } from "../middleware/authenticate.ts";
import { rateLimit } from "../middleware/rate-limit.ts";
import { idempotent } from "./idempotency.ts";
import { authErrors, commonErrors, problem } from "./openapi-responses.ts";

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

type RouteDefinition = Omit<RouteConfig, "middleware" | "security"> & {
  /** The answer carries a secret (tokens): Idempotency-Key never stores it, and a replay is 409. */
  returnsSecret?: boolean;
};

const storingIdempotency = idempotent({ storesResponse: true });
const secretIdempotency = idempotent({ storesResponse: false });
const secretReplay = problem("idempotency_key_used", "The Idempotency-Key was already used for a request whose answer carried a secret, which is never shown twice.");

function withIdempotency<R extends RouteDefinition>(definition: R) {
  const { returnsSecret, ...route } = definition;
  if (route.method !== "post") return { route, middleware: [] as const, responses: route.responses };
  const parameters = [...((route as { parameters?: unknown[] }).parameters ?? []), idempotencyKeyHeader];
  return returnsSecret
    ? { route: { ...route, parameters }, middleware: [secretIdempotency] as const, responses: { ...secretReplay, ...route.responses } }
    : { route: { ...route, parameters }, middleware: [storingIdempotency] as const, responses: route.responses };
}

/** A route that needs a signed-in caller: authentication, the per-caller rate limit, the shared error answers, and Idempotency-Key on POST. */
export function protectedRoute<R extends RouteDefinition>(definition: R) {
  const { route, middleware, responses } = withIdempotency(definition);
  return createRoute({
    ...route,
    security: [{ bearerAuth: [] }],
    middleware: [authenticate, rateLimit, ...middleware] as const,
    // The route's own description of a shared status (e.g. what its 403 means) wins over the generic one.
    responses: { ...authErrors, ...commonErrors, ...responses },
  } as unknown as R & { security: { bearerAuth: string[] }[]; middleware: [typeof authenticate] });
}

/** A route anyone may call (sign-up, sign-in): the shared error answers, and Idempotency-Key on POST. */
export function publicRoute<R extends RouteDefinition>(definition: R) {
  const { route, middleware, responses } = withIdempotency(definition);
  return createRoute({
    ...route,
    security: [],
    middleware: [...middleware] as const,
    responses: { ...responses, ...commonErrors },
  } as unknown as R & { security: never[] });
}
