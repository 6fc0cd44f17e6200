/**
 * Demo data for `npm run dev` and `npm run db:seed`, exactly as the contract names it:
 * the platform organization and its five staff, the client organization "Acme Client"
 * with its admin and member, the role/permission catalog, and one demo project.
 *
 * Idempotent without transactions (the neon-http driver has none): every step reads
 * what already exists by natural key and inserts only what is missing (ON CONFLICT DO
 * NOTHING covers a concurrent run), so a second run writes no row and consumes no
 * identity value. Existing users keep their password; catalog descriptions are updated
 * only when they differ. Nothing is ever removed.
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { hashPassword } from "../../features/auth/password.ts";
import { organization, permission, role, rolePermission, user, userRole } from "../schema/identity.ts";
import { project } from "../schema/projects.ts";
import { PERMISSIONS, ROLES, type RoleName } from "./catalog.ts";

export const DEFAULT_SEED_PASSWORD = "grandscale-demo";

export const PLATFORM_ORGANIZATION_NAME = "GrandScale";
export const CLIENT_ORGANIZATION_NAME = "Acme Client";
export const DEMO_PROJECT_NAME = "Demo Project";

type DemoUser = { email: string; full_name: string; organization: "platform" | "client"; role: RoleName };

export const DEMO_USERS: readonly DemoUser[] = [
  { email: "admin@platform.test", full_name: "Platform Admin", organization: "platform", role: "admin" },
  { email: "pm@platform.test", full_name: "Platform PM", organization: "platform", role: "pm" },
  { email: "annotator@platform.test", full_name: "Platform Annotator", organization: "platform", role: "annotator" },
  { email: "reviewer@platform.test", full_name: "Platform Reviewer", organization: "platform", role: "reviewer" },
  { email: "qc@platform.test", full_name: "Platform QC", organization: "platform", role: "qc" },
  { email: "admin@client.test", full_name: "Acme Admin", organization: "client", role: "client_admin" },
  { email: "member@client.test", full_name: "Acme Member", organization: "client", role: "client_member" },
];

export type SeedLogin = { email: string; role: RoleName; organization: string };
export type SeedResult = { logins: SeedLogin[]; platform_org_id: number; client_org_id: number; project_id: number };

/** Works with any drizzle Postgres driver (node-postgres in the CLIs, neon-http in the Worker). */
export async function seedDemoData<TQueryResult extends PgQueryResultHKT, TSchema extends Record<string, unknown>>(
  db: PgDatabase<TQueryResult, TSchema>,
  options: { password?: string } = {},
): Promise<SeedResult> {
  const password = options.password ?? DEFAULT_SEED_PASSWORD;

  const { platformOrgId, roleIds } = await seedReferenceData(db);
  const clientOrgId = await ensureClientOrganization(db, CLIENT_ORGANIZATION_NAME);

  const orgIds = { platform: platformOrgId, client: clientOrgId };
  const userIds = await ensureUsers(db, orgIds, password);
  await ensureUserRoles(db, userIds, roleIds);

  const projectId = await ensureDemoProject(db, {
    org_id: clientOrgId,
    our_pm_id: userIds.get("pm@platform.test")!,
    client_pm_id: userIds.get("admin@client.test")!,
  });

  const orgNames = { platform: PLATFORM_ORGANIZATION_NAME, client: CLIENT_ORGANIZATION_NAME };
  return {
    logins: DEMO_USERS.map((demo) => ({ email: demo.email, role: demo.role, organization: orgNames[demo.organization] })),
    platform_org_id: platformOrgId,
    client_org_id: clientOrgId,
    project_id: projectId,
  };
}

type Db = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;

/**
 * What every deployment needs before anyone can sign in: the platform organization and
 * the role/permission catalog. `migrateDatabase` applies it after the schema, so a
 * production database is usable straight after `npm run db:migrate`.
 */
export async function seedReferenceData<TQueryResult extends PgQueryResultHKT, TSchema extends Record<string, unknown>>(
  db: PgDatabase<TQueryResult, TSchema>,
) {
  const platformOrgId = await ensurePlatformOrganization(db);
  const permissionIds = await ensurePermissions(db);
  const roleIds = await ensureRoles(db);
  await ensureRolePermissions(db, roleIds, permissionIds);
  return { platformOrgId, roleIds };
}

/** There is exactly one platform organization (a partial unique index says so); reuse it whatever its name. */
async function ensurePlatformOrganization(db: Db): Promise<number> {
  const find = () =>
    db.select({ org_id: organization.org_id }).from(organization).where(eq(organization.kind, "platform"));
  const [existing] = await find();
  if (existing) return existing.org_id;
  await db.insert(organization).values({ name: PLATFORM_ORGANIZATION_NAME, kind: "platform" }).onConflictDoNothing();
  const [created] = await find();
  if (!created) throw new Error(`could not create the platform organization "${PLATFORM_ORGANIZATION_NAME}"`);
  return created.org_id;
}

async function ensureClientOrganization(db: Db, name: string): Promise<number> {
  const find = () => db.select({ org_id: organization.org_id }).from(organization).where(eq(organization.name, name));
  const [existing] = await find();
  if (existing) return existing.org_id;
  await db.insert(organization).values({ name, kind: "client" }).onConflictDoNothing();
  const [created] = await find();
  if (!created) throw new Error(`could not create the organization "${name}"`);
  return created.org_id;
}

async function ensurePermissions(db: Db): Promise<Map<string, number>> {
  const names = PERMISSIONS.map((p) => p.name);
  const existing = await db.select().from(permission).where(inArray(permission.name, names));
  const byName = new Map(existing.map((row) => [row.name, row]));
  const missing = PERMISSIONS.filter((p) => !byName.has(p.name));
  if (missing.length > 0) {
    await db
      .insert(permission)
      .values(missing.map((p) => ({ name: p.name, description: p.description })))
      .onConflictDoNothing();
  }
  for (const wanted of PERMISSIONS) {
    const row = byName.get(wanted.name);
    if (row && row.description !== wanted.description) {
      await db.update(permission).set({ description: wanted.description }).where(eq(permission.permission_id, row.permission_id));
    }
  }
  const rows = await db
    .select({ permission_id: permission.permission_id, name: permission.name })
    .from(permission)
    .where(inArray(permission.name, names));
  return new Map(rows.map((row) => [row.name, row.permission_id]));
}

async function ensureRoles(db: Db): Promise<Map<string, number>> {
  const names = ROLES.map((r) => r.name);
  const existing = await db.select().from(role).where(inArray(role.name, names));
  const byName = new Map(existing.map((row) => [row.name, row]));
  const missing = ROLES.filter((r) => !byName.has(r.name));
  if (missing.length > 0) {
    await db
      .insert(role)
      .values(missing.map((r) => ({ name: r.name, org_kind: r.org_kind, description: r.description })))
      .onConflictDoNothing();
  }
  for (const wanted of ROLES) {
    const row = byName.get(wanted.name);
    if (row && (row.description !== wanted.description || row.org_kind !== wanted.org_kind)) {
      await db
        .update(role)
        .set({ description: wanted.description, org_kind: wanted.org_kind })
        .where(eq(role.role_id, row.role_id));
    }
  }
  const rows = await db.select({ role_id: role.role_id, name: role.name }).from(role).where(inArray(role.name, names));
  return new Map(rows.map((row) => [row.name, row.role_id]));
}

async function ensureRolePermissions(db: Db, roleIds: Map<string, number>, permissionIds: Map<string, number>) {
  const wanted = ROLES.flatMap((r) =>
    r.permissions.map((name) => ({ role_id: roleIds.get(r.name)!, permission_id: permissionIds.get(name)! })),
  );
  const existing = await db
    .select()
    .from(rolePermission)
    .where(inArray(rolePermission.role_id, [...roleIds.values()]));
  const have = new Set(existing.map((row) => `${row.role_id}:${row.permission_id}`));
  const missing = wanted.filter((row) => !have.has(`${row.role_id}:${row.permission_id}`));
  if (missing.length > 0) await db.insert(rolePermission).values(missing).onConflictDoNothing();
}

async function ensureUsers(
  db: Db,
  orgIds: Record<DemoUser["organization"], number>,
  password: string,
): Promise<Map<string, number>> {
  const emails = DEMO_USERS.map((demo) => demo.email);
  const find = () => db.select({ user_id: user.user_id, email: user.email }).from(user).where(inArray(user.email, emails));
  const existing = new Set((await find()).map((row) => row.email));
  const missing = DEMO_USERS.filter((demo) => !existing.has(demo.email));
  if (missing.length > 0) {
    const rows = await Promise.all(
      missing.map(async (demo) => ({
        org_id: orgIds[demo.organization],
        email: demo.email,
        full_name: demo.full_name,
        password_hash: await hashPassword(password),
      })),
    );
    await db.insert(user).values(rows).onConflictDoNothing();
  }
  return new Map((await find()).map((row) => [row.email, row.user_id]));
}

async function ensureUserRoles(db: Db, userIds: Map<string, number>, roleIds: Map<string, number>) {
  const existing = await db
    .select()
    .from(userRole)
    .where(inArray(userRole.user_id, [...userIds.values()]));
  const have = new Set(existing.map((row) => `${row.user_id}:${row.role_id}`));
  const missing = DEMO_USERS.map((demo) => ({ user_id: userIds.get(demo.email)!, role_id: roleIds.get(demo.role)! })).filter(
    (row) => !have.has(`${row.user_id}:${row.role_id}`),
  );
  if (missing.length > 0) await db.insert(userRole).values(missing).onConflictDoNothing();
}

async function ensureDemoProject(
  db: Db,
  demo: { org_id: number; our_pm_id: number; client_pm_id: number },
): Promise<number> {
  const find = () =>
    db
      .select({ project_id: project.project_id })
      .from(project)
      .where(and(eq(project.org_id, demo.org_id), eq(project.name, DEMO_PROJECT_NAME), isNull(project.deleted_at)));
  const [existing] = await find();
  if (existing) return existing.project_id;
  await db
    .insert(project)
    .values({
      ...demo,
      name: DEMO_PROJECT_NAME,
      description: "A sample project to explore the API: upload a dataset, create jobs, annotate, review, export.",
    })
    .onConflictDoNothing();
  const [created] = await find();
  if (!created) throw new Error(`could not create the demo project "${DEMO_PROJECT_NAME}"`);
  return created.project_id;
}
