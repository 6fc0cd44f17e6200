import type { PermissionName, RoleName } from "../../db/seed/catalog.ts";

export type OrganizationKind = "platform" | "client";

/** Who is calling, as every service sees it. Built from the JWT alone, or from an API token's row. */
export type Principal = {
  user_id: number;
  org_id: number;
  org_kind: OrganizationKind;
  roles: readonly RoleName[];
  permissions: ReadonlySet<PermissionName>;
  /** The user's credentials_version when the credential was issued (see src/db/credential-guard.ts). */
  credentials_version: number;
  credential: { kind: "access_token"; session_id: string | null } | { kind: "api_token"; token_id: number };
};

export function hasRole(principal: Principal, role: RoleName): boolean {
  return principal.roles.includes(role);
}

export function isPlatformAdmin(principal: Principal): boolean {
  return principal.org_kind === "platform" && hasRole(principal, "admin");
}

export function can(principal: Principal, permission: PermissionName): boolean {
  return principal.permissions.has(permission);
}

/** The audit trail's view of the caller. */
export function actorOf(principal: Principal) {
  return {
    actor_id: principal.user_id,
    actor_kind: principal.credential.kind === "api_token" ? ("api_token" as const) : ("user" as const),
  };
}
