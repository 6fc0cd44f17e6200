import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./search.routes.ts";
import { searchEverything } from "./search.service.ts";

export const search: AppRouteHandler<typeof routes.search> = async (c) =>
  c.json(await searchEverything(authenticatedContext(c), c.req.valid("query")), 200);
