import { sql, type SQL } from "drizzle-orm";
import type { PermissionName, RoleName } from "../../db/seed/catalog.ts";
import type { OrganizationKind, Principal } from "./principal.ts";

/**
 * A user's role names and effective permissions as two json columns, for the SELECT
 * list of whatever statement already finds the user (login, refresh, API tokens, /me).
 */
export function rolesAndPermissionsColumns(userId: SQL): SQL {
  return sql`(select coalesce(json_agg(r.name order by r.name), '[]'::json)
        from user_role ur join role r on r.role_id = ur.role_id where ur.user_id = ${userId}) as roles,
      (select coalesce(json_agg(distinct p.name order by p.name), '[]'::json)
        from user_role ur join role_permission rp on rp.role_id = ur.role_id
        join permission p on p.permission_id = rp.permission_id where ur.user_id = ${userId}) as permissions`;
}

export type PrincipalRow = {
  user_id: number;
  org_id: number;
  org_kind: OrganizationKind;
  roles: RoleName[];
  permissions: PermissionName[];
  credentials_version: number;
};

export function principalFromRow(row: PrincipalRow, credential: Principal["credential"]): Principal {
  return {
    user_id: row.user_id,
    org_id: row.org_id,
    org_kind: row.org_kind,
    roles: row.roles,
    permissions: new Set(row.permissions),
    credentials_version: row.credentials_version,
    credential,
  };
}

/** Live user in a live organization: who may authenticate at all. */
export const ACTIVE_USER = sql`u.deleted_at is null and u.is_active and o.deleted_at is null`;
