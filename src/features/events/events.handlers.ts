import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./events.routes.ts";
import * as events from "./events.service.ts";

export const listEvents: AppRouteHandler<typeof routes.listEvents> = async (c) =>
  c.json(await events.listEvents(authenticatedContext(c), c.req.valid("query")), 200);
