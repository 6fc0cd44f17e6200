import { sql, type SQL } from "drizzle-orm";
import { organizationVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { etagOf, staleVersion } from "../../lib/etag.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { refuse, requirePermission } from "../../lib/permissions.ts";
import { postgresErrorOf, UNIQUE_VIOLATION } from "../../lib/postgres-errors.ts";
import { assertMayIncludeDeleted, containsPattern, typedKeyset, type SortColumn } from "../../lib/query-params.ts";
import { changedFields, ifMatchVersion, versionMatches } from "../../lib/row-version.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";

type OrganizationRow = {
  org_id: number;
  name: string;
  kind: "platform" | "client";
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
};

const COLUMNS = sql`o.org_id, o.name, o.kind, o.created_at, o.updated_at, o.deleted_at`;

function present(row: OrganizationRow) {
  return {
    org_id: row.org_id,
    name: row.name,
    kind: row.kind,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
    deleted_at: isoTimestamp(row.deleted_at),
  };
}

export type OrganizationView = ReturnType<typeof present>;
export type Versioned<T> = { body: T; etag: string };

const versioned = (row: OrganizationRow): Versioned<OrganizationView> => ({ body: present(row), etag: etagOf(row.updated_at) });

const notFound = (orgId: number) => new ApiError("not_found", `Organization ${orgId} does not exist.`);

/** The organization as the caller may see it (alias `o`), only if live when `liveOnly`. */
function visibleOrganization(ctx: AuthenticatedContext, orgId: number, liveOnly: boolean): SQL {
  return sql`select o.* from organization o
    where o.org_id = ${orgId} and ${organizationVisible(ctx.principal, "o")} ${liveOnly ? sql`and o.deleted_at is null` : sql``}`;
}

function conflictOnName(error: unknown): never {
  const pgError = postgresErrorOf(error);
  if (pgError?.code === UNIQUE_VIOLATION && pgError.constraint?.startsWith("organization_name")) {
    throw new ApiError("conflict", "An organization with this name already exists.");
  }
  throw error;
}

const SORT_COLUMNS: Record<string, SortColumn> = {
  name: { sql: sql`o.name`, kind: "text" },
  created_at: { sql: sql`o.created_at`, kind: "timestamp" },
};

export type ListOrganizationsQuery = {
  limit: number;
  cursor?: string | undefined;
  sort: string;
  kind?: "platform" | "client" | undefined;
  q?: string | undefined;
  include_deleted: boolean;
};

export async function listOrganizations(ctx: AuthenticatedContext, query: ListOrganizationsQuery): Promise<Page<OrganizationView>> {
  requirePermission(ctx.principal, "organization:read", "Your roles do not allow reading organizations.");
  assertMayIncludeDeleted(ctx.principal, query.include_deleted);
  const page = typedKeyset(query.sort, SORT_COLUMNS, sql`o.org_id`, query.cursor);
  const conditions = [
    organizationVisible(ctx.principal, "o"),
    query.include_deleted ? sql`true` : sql`o.deleted_at is null`,
    query.kind === undefined ? sql`true` : sql`o.kind = ${query.kind}::organization_kind`,
    query.q === undefined ? sql`true` : sql`o.name ilike ${containsPattern(query.q)}`,
    page.where,
  ];
  const result = await ctx.db.execute(sql`select ${COLUMNS} from organization o
    where ${sql.join(conditions, sql` and `)}
    order by ${page.orderBy} limit ${query.limit + 1}`);
  const rows = result.rows as OrganizationRow[];
  return toPage(rows, query.limit, query.sort, (row) => ({ value: row[page.field as keyof OrganizationRow], id: row.org_id }), present);
}

export async function getOrganization(ctx: AuthenticatedContext, orgId: number, options: { include_deleted: boolean }) {
  assertMayIncludeDeleted(ctx.principal, options.include_deleted);
  const result = await ctx.db.execute(sql`select ${COLUMNS} from (${visibleOrganization(ctx, orgId, !options.include_deleted)}) o`);
  const row = result.rows[0] as OrganizationRow | undefined;
  if (!row) throw notFound(orgId);
  // Staff see their own organization exist but hold no organization:read.
  requirePermission(ctx.principal, "organization:read", "Your roles do not allow reading organizations.");
  return versioned(row);
}

/** Platform admins create client organizations; the platform organization is unique and seeded. */
export async function createOrganization(ctx: AuthenticatedContext, input: { name: string }) {
  requirePermission(ctx.principal, "organization:create", "Only platform admins create organizations.");
  try {
    const [rows] = await runWrite(ctx, [
      sql`with created as (
          insert into organization (name, kind) values (${input.name}, 'client') returning *
        ), audited as (
          ${auditInsert(ctx, {
            action: "organization.create",
            entity_type: "organization",
            entity_id: sql`created.org_id`,
            org_id: sql`created.org_id`,
            after: sql`jsonb_build_object('name', created.name, 'kind', created.kind)`,
          }, sql`created`)}
        )
        select ${COLUMNS} from created o`,
    ]);
    return versioned(rows![0] as OrganizationRow);
  } catch (error) {
    conflictOnName(error);
  }
}

type MutationRow = Partial<OrganizationRow> & { found: boolean; target_kind: string | null; changed: boolean };

/** `target` locks the visible row, the change applies only if If-Match still holds: one statement tells 404, 412 and success apart. */
function verdict(rows: MutationRow[] | undefined, orgId: number): MutationRow {
  const row = rows![0]!;
  if (!row.found) throw notFound(orgId);
  return row;
}

export async function updateOrganization(ctx: AuthenticatedContext, orgId: number, input: { name: string }, ifMatch: string | undefined) {
  const version = ifMatchVersion(ifMatch);
  if (!can(ctx.principal, "organization:update")) {
    return refuse(ctx, visibleOrganization(ctx, orgId, true), {
      forbidden: "Your roles do not allow changing this organization.",
      notFound: `Organization ${orgId} does not exist.`,
    });
  }
  try {
    const [rows] = await runWrite(ctx, [
      sql`with target as (
          ${visibleOrganization(ctx, orgId, true)} for update of o
        ), updated as (
          update organization o set name = ${input.name}, updated_at = now()
          from target where o.org_id = target.org_id and ${versionMatches(sql`target.updated_at`, version)}
          returning o.*
        ), audited as (
          ${auditInsert(ctx, {
            action: "organization.update",
            entity_type: "organization",
            entity_id: sql`updated.org_id`,
            org_id: sql`updated.org_id`,
            ...changedFields("target", "updated"),
          }, sql`target join updated on updated.org_id = target.org_id`)}
        )
        select exists (select 1 from target) as found, exists (select 1 from updated) as changed, ${COLUMNS}
        from (select 1) as anchor left join updated o on true`,
    ]);
    const row = verdict(rows as MutationRow[], orgId);
    if (!row.changed) throw staleVersion();
    return versioned(row as OrganizationRow);
  } catch (error) {
    conflictOnName(error);
  }
}

export async function deleteOrganization(ctx: AuthenticatedContext, orgId: number, ifMatch: string | undefined): Promise<void> {
  const version = ifMatchVersion(ifMatch);
  if (!can(ctx.principal, "organization:delete")) {
    return refuse(ctx, visibleOrganization(ctx, orgId, true), {
      forbidden: "Only platform admins delete organizations.",
      notFound: `Organization ${orgId} does not exist.`,
    });
  }
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        ${visibleOrganization(ctx, orgId, true)} for update of o
      ), deleted as (
        update organization o set deleted_at = now(), updated_at = now()
        from target where o.org_id = target.org_id and target.kind = 'client' and ${versionMatches(sql`target.updated_at`, version)}
        returning o.org_id, o.deleted_at
      ), audited as (
        ${auditInsert(ctx, {
          action: "organization.delete",
          entity_type: "organization",
          entity_id: sql`deleted.org_id`,
          org_id: sql`deleted.org_id`,
          before: sql`jsonb_build_object('deleted_at', null)`,
          after: sql`jsonb_build_object('deleted_at', deleted.deleted_at)`,
        }, sql`deleted`)}
      )
      select exists (select 1 from target) as found, (select kind from target) as target_kind, exists (select 1 from deleted) as changed`,
  ]);
  const row = verdict(rows as MutationRow[], orgId);
  if (row.target_kind === "platform") throw new ApiError("conflict", "The platform organization cannot be deleted.");
  if (!row.changed) throw staleVersion();
}

export async function restoreOrganization(ctx: AuthenticatedContext, orgId: number) {
  if (!can(ctx.principal, "organization:delete")) {
    return refuse(ctx, visibleOrganization(ctx, orgId, false), {
      forbidden: "Only platform admins restore organizations.",
      notFound: `Organization ${orgId} does not exist.`,
    });
  }
  const [rows] = await runWrite(ctx, [
    sql`with target as (
        ${visibleOrganization(ctx, orgId, false)} for update of o
      ), restored as (
        update organization o set deleted_at = null, updated_at = now()
        from target where o.org_id = target.org_id and target.deleted_at is not null
        returning o.*, target.deleted_at as was_deleted_at
      ), audited as (
        ${auditInsert(ctx, {
          action: "organization.restore",
          entity_type: "organization",
          entity_id: sql`restored.org_id`,
          org_id: sql`restored.org_id`,
          before: sql`jsonb_build_object('deleted_at', restored.was_deleted_at)`,
          after: sql`jsonb_build_object('deleted_at', null)`,
        }, sql`restored`)}
      )
      select exists (select 1 from target) as found, exists (select 1 from restored) as changed, ${COLUMNS}
      from (select 1) as anchor left join restored o on true`,
  ]);
  const row = verdict(rows as MutationRow[], orgId);
  if (!row.changed) throw new ApiError("conflict", `Organization ${orgId} is not deleted.`);
  return versioned(row as OrganizationRow);
}
