/**
 * Who can do what: organizations, their users, the role/permission catalog and the
 * credentials users authenticate with.
 */
import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { byteCount, createdAt, deletedAt, identityKey, timestamptz, updatedAt } from "./columns.ts";
import { organizationKind } from "./enums.ts";

export const organization = pgTable(
  "organization",
  {
    org_id: identityKey(),
    // Unique across live and soft-deleted rows, so restoring an organization never clashes.
    name: text().notNull().unique(),
    kind: organizationKind().notNull().default("client"),
    // Per-organization overrides of the upload quotas (features/uploads/upload-quotas.ts);
    // NULL takes the deployment's default (QUOTA_* in wrangler.toml [vars]).
    quota_open_uploads: integer(),
    quota_upload_bytes_per_day: byteCount(),
    quota_stored_bytes: byteCount(),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (t) => [
    // Exactly one operator organization.
    uniqueIndex("organization_single_platform_idx").on(t.kind).where(sql`${t.kind} = 'platform'`),
    check("organization_name_not_blank", sql`length(btrim(${t.name})) > 0`),
    check(
      "organization_quotas_non_negative",
      sql`${t.quota_open_uploads} >= 0 AND ${t.quota_upload_bytes_per_day} >= 0 AND ${t.quota_stored_bytes} >= 0`,
    ),
    index("organization_created_at_idx").on(t.created_at),
  ],
);

export const user = pgTable(
  "user",
  {
    user_id: identityKey(),
    // RESTRICT: an organization is retired by soft delete; hard-deleting one that still
    // has users must be an explicit purge, never a side effect.
    org_id: integer()
      .notNull()
      .references(() => organization.org_id, { onDelete: "restrict" }),
    // Stored lower-cased (checked), so a plain unique index is case-insensitive uniqueness.
    email: text().notNull().unique(),
    full_name: text().notNull(),
    password_hash: text().notNull(),
    is_active: boolean().notNull().default(true),
    // Access tokens carry the value they were issued under; deleting, deactivating, a role
    // or password change bumps it, and every statement of a request made with an older
    // token fails (see credential_guard in drizzle/0004).
    credentials_version: integer().notNull().default(0),
    last_login_at: timestamptz(),
    created_at: createdAt(),
    updated_at: updatedAt(),
    deleted_at: deletedAt(),
  },
  (t) => [
    index("user_org_id_idx").on(t.org_id),
    index("user_created_at_idx").on(t.created_at),
    check("user_email_lower_case", sql`${t.email} = lower(${t.email})`),
    check("user_email_shape", sql`${t.email} ~ '^[^@[:space:]]+@[^@[:space:]]+$'`),
  ],
);

/** Roles are global catalog rows; `org_kind` says which kind of organization may hold them. */
export const role = pgTable("role", {
  role_id: identityKey(),
  name: text().notNull().unique(),
  org_kind: organizationKind().notNull(),
  description: text().notNull().default(""),
  created_at: createdAt(),
});

export const permission = pgTable(
  "permission",
  {
    permission_id: identityKey(),
    name: text().notNull().unique(),
    description: text().notNull().default(""),
    created_at: createdAt(),
  },
  (t) => [check("permission_name_shape", sql`${t.name} ~ '^[a-z_]+:[a-z_]+$'`)],
);

export const rolePermission = pgTable(
  "role_permission",
  {
    role_id: integer()
      .notNull()
      .references(() => role.role_id, { onDelete: "cascade" }),
    permission_id: integer()
      .notNull()
      .references(() => permission.permission_id, { onDelete: "cascade" }),
  },
  (t) => [
    primaryKey({ columns: [t.role_id, t.permission_id] }),
    index("role_permission_permission_id_idx").on(t.permission_id),
  ],
);

export const userRole = pgTable(
  "user_role",
  {
    user_id: integer()
      .notNull()
      .references(() => user.user_id, { onDelete: "cascade" }),
    role_id: integer()
      .notNull()
      .references(() => role.role_id, { onDelete: "cascade" }),
    created_at: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.user_id, t.role_id] }), index("user_role_role_id_idx").on(t.role_id)],
);

/** Long-lived bearer secrets. Only the hash is stored; `prefix` identifies a token in lists. */
export const apiToken = pgTable(
  "api_token",
  {
    token_id: identityKey(),
    user_id: integer()
      .notNull()
      .references(() => user.user_id, { onDelete: "cascade" }),
    name: text().notNull(),
    prefix: text().notNull(),
    token_hash: text().notNull().unique(),
    last_used_at: timestamptz(),
    expires_at: timestamptz(),
    revoked_at: timestamptz(),
    created_at: createdAt(),
  },
  (t) => [
    index("api_token_user_id_idx").on(t.user_id),
    check("api_token_expires_after_creation", sql`${t.expires_at} IS NULL OR ${t.expires_at} > ${t.created_at}`),
  ],
);

/**
 * Rotating refresh tokens. A login starts a family; each refresh inserts the successor
 * (same family_id, parent_token_id = the one it replaces) and sets the parent's
 * rotated_at. Presenting a token whose rotated_at is set is reuse: revoke the family.
 */
export const refreshToken = pgTable(
  "refresh_token",
  {
    token_id: identityKey(),
    user_id: integer()
      .notNull()
      .references(() => user.user_id, { onDelete: "cascade" }),
    family_id: uuid().notNull().defaultRandom(),
    token_hash: text().notNull().unique(),
    // SET NULL: pruning an expired ancestor must not take its live descendants with it.
    parent_token_id: integer().references((): AnyPgColumn => refreshToken.token_id, { onDelete: "set null" }),
    expires_at: timestamptz().notNull(),
    rotated_at: timestamptz(),
    revoked_at: timestamptz(),
    created_at: createdAt(),
  },
  (t) => [
    index("refresh_token_user_id_idx").on(t.user_id),
    index("refresh_token_family_id_idx").on(t.family_id),
    index("refresh_token_parent_token_id_idx").on(t.parent_token_id),
    index("refresh_token_expires_at_idx").on(t.expires_at),
    check("refresh_token_expires_after_creation", sql`${t.expires_at} > ${t.created_at}`),
  ],
);
