import { sql, type SQL } from "drizzle-orm";
import type { PermissionName } from "../db/seed/catalog.ts";
import { can, type Principal } from "../features/auth/principal.ts";
import { ApiError } from "./errors.ts";
import type { ServiceContext } from "./service-context.ts";

/** For collections, which every signed-in caller can see: a missing permission is 403 at once. */
export function requirePermission(principal: Principal, permission: PermissionName, detail: string): void {
  if (!can(principal, permission)) throw new ApiError("forbidden", detail);
}

/**
 * The answer for a caller without the permission an operation on one row needs: 403 if
 * the row is visible to them, 404 if not (ids reveal nothing). `visibleRow` is a SELECT
 * of that row filtered by the access predicate; one round trip, like the change it replaces.
 */
export async function refuse(
  ctx: Pick<ServiceContext, "db">,
  visibleRow: SQL,
  answers: { forbidden: string; notFound: string },
): Promise<never> {
  const result = await ctx.db.execute(sql`select exists (${visibleRow}) as visible`);
  const visible = (result.rows[0] as { visible: boolean } | undefined)?.visible === true;
  throw visible ? new ApiError("forbidden", answers.forbidden) : new ApiError("not_found", answers.notFound);
}
