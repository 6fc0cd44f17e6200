import { sql, type SQL } from "drizzle-orm";
import { organizationVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { etagOf, staleVersion } from "../../lib/etag.ts";
import { toPage, type Page } from "../../lib/pagination.ts";
import { refuse, requirePermission } from "../../lib/permissions.ts";
import { postgresErrorOf, UNIQUE_VIOLATION } from "../../lib/postgres-errors.ts";
import { assertMayIncludeDeleted, containsPattern, typedKeyset, type SortColumn } from "../../lib/query-params.ts";
import { ifMatchVersion, updateAudit, versionMatches } from "../../lib/row-version.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { restore, softDelete, type SoftDeletable } from "../../lib/soft-delete.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { bumpCredentialsVersion, revokeCredentials } from "../auth/credential-revocation.ts";
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

const notFoundDetail = (orgId: number) => `Organization ${orgId} does not exist.`;
const notFound = (orgId: number) => new ApiError("not_found", notFoundDetail(orgId));

const ORGANIZATION: SoftDeletable = { entity: "organization", table: "organization", alias: "o", key: "org_id", scope: ["org_id"] };

/** The organization as the caller may see it (alias `o`), only if live when `liveOnly`. */
function visibleOrganization(ctx: AuthenticatedContext, orgId: number, liveOnly: boolean): SQL {
  return sql`select o.* from organization o
    where o.org_id = ${orgId} and ${organizationVisible(ctx.principal, "o")} ${liveOnly ? sql`and o.deleted_at is null` : sql``}`;
}

function refuseOrganization(ctx: AuthenticatedContext, orgId: number, liveOnly: boolean, forbidden: string): Promise<never> {
  return refuse(ctx, visibleOrganization(ctx, orgId, liveOnly), { forbidden, notFound: notFoundDetail(orgId) });
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

type UpdatedRow = Partial<OrganizationRow> & { found: boolean; changed: boolean };

/** `target` locks the visible row, the change applies only if If-Match still holds: one statement tells 404, 412 and success apart. */
export async function updateOrganization(ctx: AuthenticatedContext, orgId: number, input: { name: string }, ifMatch: string | undefined) {
  const version = ifMatchVersion(ifMatch);
  if (!can(ctx.principal, "organization:update")) return refuseOrganization(ctx, orgId, true, "Your roles do not allow changing this organization.");
  try {
    const [rows] = await runWrite(ctx, [
      sql`with target as (
          ${visibleOrganization(ctx, orgId, true)} for update of o
        ), updated as (
          update organization o set name = ${input.name}, updated_at = now()
          from target where o.org_id = target.org_id and ${versionMatches(sql`target.updated_at`, version)}
          returning o.*
        ), audited as (
          ${updateAudit(ctx, ORGANIZATION)}
        )
        select exists (select 1 from target) as found, exists (select 1 from updated) as changed, ${COLUMNS}
        from (select 1) as anchor left join updated o on true`,
    ]);
    const row = rows![0] as UpdatedRow;
    if (!row.found) throw notFound(orgId);
    if (!row.changed) throw staleVersion();
    return versioned(row as OrganizationRow);
  } catch (error) {
    conflictOnName(error);
  }
}

/**
 * Soft delete. The organization's users are refused from the next request on (the
 * credential guard checks the organization), and their tokens are ended in the same
 * statement, so restoring the organization revives no old credential.
 */
export async function deleteOrganization(ctx: AuthenticatedContext, orgId: number, ifMatch: string | undefined): Promise<void> {
  const version = ifMatchVersion(ifMatch);
  if (!can(ctx.principal, "organization:delete")) return refuseOrganization(ctx, orgId, true, "Only platform admins delete organizations.");
  const revocation = revokeCredentials(sql`select user_id from members`, { apiTokens: true });
  await softDelete(ctx, ORGANIZATION, {
    target: visibleOrganization(ctx, orgId, true),
    version,
    notFound: notFoundDetail(orgId),
    deletable: { holds: sql`target.kind = 'client'`, refusal: "The platform organization cannot be deleted." },
    consequences: {
      ctes: sql`members as (
          update "user" m set ${bumpCredentialsVersion("m")} from deleted where m.org_id = deleted.org_id returning m.user_id
        ), ${revocation.ctes}`,
      summary: revocation.summary,
    },
  });
}

export async function restoreOrganization(ctx: AuthenticatedContext, orgId: number) {
  if (!can(ctx.principal, "organization:delete")) return refuseOrganization(ctx, orgId, false, "Only platform admins restore organizations.");
  const row = await restore<OrganizationRow>(ctx, ORGANIZATION, {
    target: visibleOrganization(ctx, orgId, false),
    answer: COLUMNS,
    notFound: notFoundDetail(orgId),
    notDeleted: `Organization ${orgId} is not deleted.`,
  });
  return versioned(row);
}
