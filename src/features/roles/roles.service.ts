import { sql } from "drizzle-orm";
import { toPage, type Page } from "../../lib/pagination.ts";
import { requirePermission } from "../../lib/permissions.ts";
import { typedKeyset } from "../../lib/query-params.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";

type RoleRow = { role_id: number; name: string; org_kind: "platform" | "client"; description: string; permissions: string[] };
type PermissionRow = { permission_id: number; name: string; description: string };

const READ_DENIED = "Your roles do not allow reading the role catalog.";

/** Roles are the same rows for everyone; a client organization can only ever hold client roles, so that is all it is shown. */
export async function listRoles(
  ctx: AuthenticatedContext,
  query: { limit: number; cursor?: string | undefined; org_kind?: "platform" | "client" | undefined },
): Promise<Page<RoleRow>> {
  requirePermission(ctx.principal, "user:read", READ_DENIED);
  const page = typedKeyset("name", { name: { sql: sql`r.name`, kind: "text" } }, sql`r.role_id`, query.cursor);
  const conditions = [
    ctx.principal.org_kind === "platform" ? sql`true` : sql`r.org_kind = ${ctx.principal.org_kind}::organization_kind`,
    query.org_kind === undefined ? sql`true` : sql`r.org_kind = ${query.org_kind}::organization_kind`,
    page.where,
  ];
  const result = await ctx.db.execute(sql`select r.role_id, r.name, r.org_kind, r.description,
      (select coalesce(json_agg(p.name order by p.name), '[]'::json)
        from role_permission rp join permission p on p.permission_id = rp.permission_id where rp.role_id = r.role_id) as permissions
    from role r where ${sql.join(conditions, sql` and `)}
    order by ${page.orderBy} limit ${query.limit + 1}`);
  return toPage(result.rows as RoleRow[], query.limit, "name", (row) => ({ value: row.name, id: row.role_id }), (row) => row);
}

export async function listPermissions(ctx: AuthenticatedContext, query: { limit: number; cursor?: string | undefined }): Promise<Page<PermissionRow>> {
  requirePermission(ctx.principal, "user:read", READ_DENIED);
  const page = typedKeyset("name", { name: { sql: sql`p.name`, kind: "text" } }, sql`p.permission_id`, query.cursor);
  const result = await ctx.db.execute(sql`select p.permission_id, p.name, p.description from permission p
    where ${page.where} order by ${page.orderBy} limit ${query.limit + 1}`);
  return toPage(result.rows as PermissionRow[], query.limit, "name", (row) => ({ value: row.name, id: row.permission_id }), (row) => row);
}
