/**
 * Granting roles, shared by POST /users and PUT /users/{user_id}/roles. The checks run
 * inside the statement that writes the grant (the catalog is data, so "does this role
 * exist, and for which kind of organization" is a question for the database), and the
 * service turns the verdict into an answer.
 */
import { sql, type SQL } from "drizzle-orm";
import { ApiError, type FieldError } from "../../lib/errors.ts";
import { isPlatformAdmin, type Principal } from "../auth/principal.ts";

/**
 * The `requested` CTE: one row per name in the `names` CTE's jsonb `list`, in order
 * (0-based `position`, for error paths), with its role row; role_id is null when no
 * role has that name.
 */
export const REQUESTED_ROLES = sql`select requested.name, (requested.position - 1)::int as position, role.role_id, role.org_kind::text as org_kind
  from names cross join jsonb_array_elements_text(names.list) with ordinality as requested(name, position)
  left join role on role.name = requested.name`;

/** The verdict on `requested` for a user of an organization of kind `orgKind` (columns of the `checks` CTE). */
export function grantCheckColumns(orgKind: SQL): SQL {
  return sql`(select coalesce(jsonb_agg(jsonb_build_object('position', position, 'name', name) order by position), '[]'::jsonb)
      from requested where role_id is null) as unknown_roles,
    (select coalesce(jsonb_agg(jsonb_build_object('position', position, 'name', name, 'org_kind', org_kind) order by position), '[]'::jsonb)
      from requested where org_kind <> ${orgKind}) as foreign_roles,
    exists (select 1 from requested where org_kind = 'platform') as grants_platform`;
}

/** Whether the `checks` verdict lets this caller grant `requested`. */
export function grantable(principal: Principal): SQL {
  return sql`(checks.unknown_roles = '[]'::jsonb and checks.foreign_roles = '[]'::jsonb
    and (${isPlatformAdmin(principal)}::boolean or not checks.grants_platform))`;
}

/** The granted role names, sorted and without repeats: what the user holds afterwards. */
export const REQUESTED_ROLE_NAMES = sql`(select coalesce(jsonb_agg(distinct name order by name), '[]'::jsonb) from requested)`;

export type GrantChecks = {
  unknown_roles: { position: number; name: string }[];
  foreign_roles: { position: number; name: string; org_kind: string }[];
  grants_platform: boolean;
};

/**
 * Unknown roles are a 422; platform roles are granted by platform admins only (403);
 * a role for the other kind of organization is a 422 (a client user cannot be a pm).
 */
export function assertGrantable(principal: Principal, checks: GrantChecks, path: string): void {
  if (checks.unknown_roles.length > 0) {
    const errors: FieldError[] = checks.unknown_roles.map((entry) => ({ path: `${path}.${entry.position}`, message: `no role is named ${entry.name}` }));
    throw new ApiError("validation_failed", "The request body names roles that do not exist (GET /roles lists them).", { errors });
  }
  if (checks.grants_platform && !isPlatformAdmin(principal)) {
    throw new ApiError("forbidden", "Only platform admins grant platform roles.");
  }
  if (checks.foreign_roles.length > 0) {
    const errors: FieldError[] = checks.foreign_roles.map((entry) => ({
      path: `${path}.${entry.position}`,
      message: `${entry.name} is a role for ${entry.org_kind} organizations`,
    }));
    throw new ApiError("validation_failed", "A role must match the kind of the user's organization.", { errors });
  }
}
