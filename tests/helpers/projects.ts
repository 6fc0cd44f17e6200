/**
 * Direct-to-database factories for projects, files and versions, for tests that need
 * such rows without going through the endpoints under test (uploads are another
 * feature; a file here is just its rows).
 */
import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { testDb } from "./db.ts";
import { unique } from "./factories.ts";

const db = testDb();

export type ProjectFixture = { project_id: number; org_id: number; name: string };

export async function insertProject(
  orgId: number,
  fields: { name?: string; our_pm_id?: number | null; client_pm_id?: number | null; status?: string; deleted?: boolean } = {},
): Promise<ProjectFixture> {
  const name = fields.name ?? unique("Project");
  const result = await db.execute(sql`insert into project (org_id, name, our_pm_id, client_pm_id, status, deleted_at)
    values (${orgId}, ${name}, ${fields.our_pm_id ?? null}, ${fields.client_pm_id ?? null},
      ${fields.status ?? "draft"}::project_status, ${fields.deleted ? sql`now()` : sql`null`})
    returning project_id, org_id, name`);
  return result.rows[0] as ProjectFixture;
}

export async function insertFile(
  project: { project_id: number; org_id: number },
  fields: { filename?: string; file_type?: string; status?: string } = {},
): Promise<number> {
  const result = await db.execute(sql`insert into file (project_id, org_id, filename, content_type, file_type, status)
    values (${project.project_id}, ${project.org_id}, ${fields.filename ?? `${unique("data")}.csv`}, 'text/csv',
      ${fields.file_type ?? "dataset"}::file_type, ${fields.status ?? "ready_for_annotation"}::file_status)
    returning file_id`);
  return (result.rows[0] as { file_id: number }).file_id;
}

/**
 * A completed (ready) version, numbered; `pending: true` makes an upload still in flight.
 * Its bytes are in R2 only with `content` (a CSV): give them to whatever may parse it, or
 * a queued parse retries against a missing object for minutes.
 */
export async function insertVersion(
  fileId: number,
  fields: { version_number?: number; size_bytes?: number; pending?: boolean; content?: Uint8Array } = {},
): Promise<number> {
  const ready = !fields.pending;
  const r2Key = `test/${crypto.randomUUID()}`;
  let sha256 = "a".repeat(64);
  if (fields.content) {
    await env.FILES.put(r2Key, fields.content);
    const digest = await crypto.subtle.digest("SHA-256", fields.content);
    sha256 = [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  }
  const result = await db.execute(sql`insert into file_version
      (file_id, version_number, filename, r2_key, size_bytes, sha256, content_type, status, parse_status,
       parse_progress_done, parse_progress_total, completed_at)
    values (${fileId}, ${ready ? (fields.version_number ?? 1) : null}, 'data.csv', ${r2Key},
      ${fields.content?.byteLength ?? fields.size_bytes ?? 1234}, ${sha256}, 'text/csv', ${ready ? "ready" : "pending"}::file_version_status,
      ${ready ? "running" : null}::parse_status, ${ready ? 600 : 0}, ${ready ? 1234 : null}, ${ready ? sql`now()` : sql`null`})
    returning version_id`);
  const versionId = (result.rows[0] as { version_id: number }).version_id;
  if (ready) await db.execute(sql`update file set current_version_id = ${versionId} where file_id = ${fileId}`);
  return versionId;
}

/** Polls the version until its parse ends (succeeded or failed): what the real queue delivered, awaited. */
export async function parseFinished(versionId: number, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await db.execute(sql`select parse_status, parse_generation, parse_error,
        (select count(*)::integer from file_table t where t.version_id = ${versionId} and t.state = 'active') as tables
      from file_version where version_id = ${versionId}`);
    const row = result.rows[0] as { parse_status: string | null; parse_generation: number; parse_error: string | null; tables: number };
    if (row.parse_status === "succeeded" || row.parse_status === "failed") return row;
    if (Date.now() > deadline) throw new Error(`version ${versionId} still ${row.parse_status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export type EventRecord = {
  event_id: string;
  action: string;
  actor_id: number | null;
  org_id: number | null;
  project_id: number | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  request_id: string | null;
};

export async function eventsOf(entityType: string, entityId: number): Promise<EventRecord[]> {
  const result = await db.execute(sql`select event_id, action, actor_id, org_id, project_id, before, after, request_id
    from event_log where entity_type = ${entityType} and entity_id = ${entityId} order by event_id`);
  return result.rows as EventRecord[];
}
