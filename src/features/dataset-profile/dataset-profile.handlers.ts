import { authenticatedContext } from "../../lib/service-context.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import * as profiles from "./dataset-profile.service.ts";
import type * as routes from "./dataset-profile.routes.ts";

export const getTableProfile: AppRouteHandler<typeof routes.getTableProfile> = async (c) =>
  c.json(await profiles.getTableProfile(authenticatedContext(c), c.req.valid("param").table_id), 200);
