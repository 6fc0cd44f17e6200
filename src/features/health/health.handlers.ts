import { ApiError } from "../../lib/errors.ts";
import { errorFields } from "../../lib/logger.ts";
import type { AppRouteHandler } from "../../lib/types.ts";
import type { getDatabaseHealth, getHealth } from "./health.routes.ts";
import { checkDatabase } from "./health.service.ts";

export const health: AppRouteHandler<typeof getHealth> = (c) => c.json({ status: "ok" as const }, 200);

export const databaseHealth: AppRouteHandler<typeof getDatabaseHealth> = async (c) => {
  try {
    return c.json(await checkDatabase({ db: c.get("db") }), 200);
  } catch (error) {
    c.get("logger").error("database health check failed", errorFields(error));
    throw new ApiError("service_unavailable", "The database did not answer.");
  }
};
