/**
 * The shared world the access matrix runs every policy against (see policy.ts): eight
 * signed-in actors, a client organization with a project run by `pm`, a parsed dataset
 * (file, ready version, table with rows, and its bytes in R2) and a job over those rows
 * assigned to annotator, reviewer and qc; and another client organization with its own
 * project. Uploads, parsing and job creation are features tested elsewhere, so this
 * world is written straight to the database: it depends on no endpoint it judges.
 */
import { env } from "cloudflare:test";
import { generateToken, TOKEN_PREFIXES } from "../../src/lib/opaque-tokens.ts";
import { sql, testDb } from "../helpers/db.ts";
import { createUser, registerClient, unique } from "../helpers/factories.ts";
import type { World } from "./policy.ts";

const db = testDb();

const WORLD_ROWS = [
  { text: "The first row", label: "a" },
  { text: "The second row", label: "b" },
  { text: "The third row", label: "a" },
];
const WORLD_CSV = `text,label\n${WORLD_ROWS.map((row) => `${row.text},${row.label}`).join("\n")}\n`;
const WORLD_COLUMNS = [
  { name: "text", type: "string", nullable: false },
  { name: "label", type: "string", nullable: false },
];

async function sha256Hex(text: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

async function insertProject(orgId: number, ourPmId: number | null, clientPmId: number) {
  const result = await db.execute(sql`insert into project (org_id, name, status, our_pm_id, client_pm_id)
    values (${orgId}, ${unique("World Project")}, 'ready_for_annotation', ${ourPmId}, ${clientPmId})
    returning project_id`);
  return (result.rows[0] as { project_id: number }).project_id;
}

/** The dataset of the world's project: file, its ready and parsed version 1, one table of WORLD_ROWS. */
async function insertDataset(projectId: number, orgId: number, uploadedBy: number) {
  const r2Key = `world/${crypto.randomUUID()}/data.csv`;
  await env.FILES.put(r2Key, WORLD_CSV, { httpMetadata: { contentType: "text/csv" } });
  const size = new TextEncoder().encode(WORLD_CSV).byteLength;
  const result = await db.execute(sql`
    with created_file as (
      insert into file (project_id, org_id, filename, content_type, file_type, status, created_by)
      values (${projectId}, ${orgId}, 'world.csv', 'text/csv', 'dataset', 'ready_for_annotation', ${uploadedBy})
      returning file_id
    ), version as (
      insert into file_version (file_id, version_number, filename, r2_key, size_bytes, sha256, content_type, status,
        parse_status, parse_progress_done, parse_progress_total, uploaded_by, completed_at)
      select file_id, 1, 'world.csv', ${r2Key}, ${size}, ${await sha256Hex(WORLD_CSV)}, 'text/csv', 'ready',
        'succeeded', ${size}, ${size}, ${uploadedBy}, now()
      from created_file
      returning version_id, file_id
    ), created_table as (
      insert into file_table (version_id, name, state, columns, row_count)
      select version_id, 'world', 'active', ${JSON.stringify(WORLD_COLUMNS)}::jsonb, ${WORLD_ROWS.length}::integer from version
      returning table_id
    ), created_rows as (
      insert into file_table_row (table_id, row_index, data)
      select created_table.table_id, (row.position - 1)::integer, row.data
      from created_table, jsonb_array_elements(${JSON.stringify(WORLD_ROWS)}::jsonb) with ordinality as row(data, position)
    )
    select version.file_id, version.version_id, created_table.table_id from version, created_table`);
  const dataset = result.rows[0] as { file_id: number; version_id: number; table_id: number };
  // A second statement: an UPDATE cannot see a row inserted by the same statement.
  await db.execute(sql`update file set current_version_id = ${dataset.version_id} where file_id = ${dataset.file_id}`);
  return dataset;
}

async function insertAssignedJob(projectId: number, tableId: number, pmId: number, staff: Record<"annotator" | "reviewer" | "qc", number>) {
  const result = await db.execute(sql`
    with job as (
      insert into annotation_job (project_id, table_id, name, row_start, row_end, created_by)
      values (${projectId}, ${tableId}, 'World job', 0, ${WORLD_ROWS.length - 1}, ${pmId})
      returning job_id
    ), assigned as (
      insert into assignment (job_id, user_id, role, assigned_by)
      select job.job_id, staff.user_id, staff.role::assignment_role, ${pmId}
      from job, (values (${staff.annotator}::integer, 'annotator'), (${staff.reviewer}::integer, 'reviewer'), (${staff.qc}::integer, 'qc'))
        as staff(user_id, role)
    )
    select job_id from job`);
  return (result.rows[0] as { job_id: number }).job_id;
}

export async function buildWorld(): Promise<World> {
  const [admin, pm, annotator, reviewer, qc, client_admin, other_client] = await Promise.all([
    createUser("admin"),
    createUser("pm"),
    createUser("annotator"),
    createUser("reviewer"),
    createUser("qc"),
    registerClient(),
    registerClient(),
  ]);
  const client_member = await createUser("client_member", client_admin.org_id);
  const accounts: World["accounts"] = { admin, pm, annotator, reviewer, qc, client_admin, client_member, other_client };

  const [projectId, otherProjectId] = await Promise.all([
    insertProject(client_admin.org_id, pm.user_id, client_admin.user_id),
    insertProject(other_client.org_id, null, other_client.user_id),
  ]);
  const dataset = await insertDataset(projectId, client_admin.org_id, client_admin.user_id);
  const jobId = await insertAssignedJob(projectId, dataset.table_id, pm.user_id, {
    annotator: annotator.user_id,
    reviewer: reviewer.user_id,
    qc: qc.user_id,
  });

  return {
    accounts,
    platform_org_id: admin.org_id,
    client_org_id: client_admin.org_id,
    other_org_id: other_client.org_id,
    project_id: projectId,
    other_project_id: otherProjectId,
    file_id: dataset.file_id,
    version_id: dataset.version_id,
    table_id: dataset.table_id,
    job_id: jobId,
  };
}

/**
 * A fresh user of the world's client organization, written straight to the database,
 * for policies whose operation changes or deletes a user (so actors never share one).
 * It cannot sign in: it is only ever a target.
 */
export async function insertClientUser(world: World, options: { deleted?: boolean } = {}): Promise<number> {
  const result = await db.execute(sql`with created as (
      insert into "user" (org_id, email, full_name, password_hash, deleted_at)
      values (${world.client_org_id}, ${`${unique("target")}@client.test`}, 'Matrix Target', 'not-a-password-hash',
        ${options.deleted ? sql`now()` : sql`null`})
      returning user_id
    ), granted as (
      insert into user_role (user_id, role_id) select created.user_id, role.role_id from created, role where role.name = 'client_member'
    )
    select user_id from created`);
  return (result.rows[0] as { user_id: number }).user_id;
}

/** A fresh client organization (soft-deleted if asked), for policies that delete or restore one. */
export async function insertOrganization(options: { deleted?: boolean } = {}): Promise<number> {
  const result = await db.execute(sql`insert into organization (name, kind, deleted_at)
    values (${unique("Matrix Org")}, 'client', ${options.deleted ? sql`now()` : sql`null`}) returning org_id`);
  return (result.rows[0] as { org_id: number }).org_id;
}

/**
 * A fresh session (refresh token) of a user, written straight to the database: what a
 * sign-in would store, without paying a password hash per actor.
 */
export async function insertSession(userId: number): Promise<string> {
  const { token, hash } = await generateToken(TOKEN_PREFIXES.refreshToken);
  await db.execute(sql`insert into refresh_token (user_id, token_hash, expires_at) values (${userId}, ${hash}, now() + interval '1 day')`);
  return token;
}
