import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type * as routes from "./stats.routes.ts";
import * as stats from "./stats.service.ts";

export const getProjectStats: AppRouteHandler<typeof routes.getProjectStats> = async (c) =>
  c.json(await stats.getProjectStats(authenticatedContext(c), c.req.valid("param").project_id), 200);
