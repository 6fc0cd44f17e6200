/**
 * Export tests' data, created straight in the database: a project with parsed tables,
 * annotation jobs over their rows, annotations and reviews, so an export has something
 * exact to be compared with. Also the export_log row itself, for consumer tests that
 * drive the queue by hand (a row made here sends no message).
 */
import { sql } from "drizzle-orm";
import { storeConsensus } from "./consensus.ts";
import { testDb } from "./db.ts";
import { unique } from "./factories.ts";

const db = testDb();

export type TableSpec = { columns: string[]; rows: Record<string, unknown>[] };

export type JobSpec = {
  table: number;
  row_start: number;
  row_end: number;
  status: "not_started" | "in_progress" | "submitted" | "reviewed";
  /** Annotation data per row_index. */
  annotations?: Record<number, unknown>;
  /** Reviews in order: the last non-pending one is the job's verdict. */
  reviews?: ("approved" | "rejected")[];
};

export type ExportFixture = {
  org_id: number;
  project_id: number;
  annotator_id: number;
  reviewer_id: number;
  tables: { table_id: number; version_id: number; file_id: number; columns: string[]; rows: Record<string, unknown>[] }[];
  jobs: (JobSpec & { job_id: number })[];
};

async function insertUser(orgId: number, label: string): Promise<number> {
  const result = await db.execute(sql`insert into "user" (org_id, email, full_name, password_hash)
    values (${orgId}, ${`${unique(label)}@example.test`}, ${label}, 'not-a-hash') returning user_id`);
  return (result.rows[0] as { user_id: number }).user_id;
}

/** A client organization's project (our_pm optional) with the given tables and jobs. */
export async function createExportFixture(spec: { org_id?: number; our_pm_id?: number; tables: TableSpec[]; jobs: JobSpec[] }): Promise<ExportFixture> {
  const orgId = spec.org_id ?? ((await db.execute(sql`insert into organization (name) values (${unique("Export Org")}) returning org_id`))
    .rows[0] as { org_id: number }).org_id;
  const platformOrg = (await db.execute(sql`select org_id from organization where kind = 'platform'`)).rows[0] as { org_id: number };
  const project = (await db.execute(sql`insert into project (org_id, name, our_pm_id) values (${orgId}, ${unique("Export Project")}, ${spec.our_pm_id ?? null})
    returning project_id`)).rows[0] as { project_id: number };
  const annotatorId = await insertUser(platformOrg.org_id, "annotator");
  const reviewerId = await insertUser(platformOrg.org_id, "reviewer");
  const tables: ExportFixture["tables"] = [];
  for (const [position, table] of spec.tables.entries()) {
    const created = (await db.execute(sql`
      with f as (
        insert into file (project_id, org_id, filename, content_type, file_type, status)
        values (${project.project_id}, ${orgId}, ${`table-${position}.csv`}, 'text/csv', 'dataset', 'ready_for_annotation')
        returning file_id
      ), v as (
        insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status, completed_at)
        select file_id, 1, ${`table-${position}.csv`}, ${`tests/exports/${crypto.randomUUID()}`}, 1, 'text/csv', 'ready', 'succeeded', now() from f
        returning version_id, file_id
      ), t as (
        insert into file_table (version_id, name, columns, row_count)
        select version_id, 'rows', ${JSON.stringify(table.columns.map((name) => ({ name, type: "string", nullable: true })))}::jsonb,
          ${table.rows.length} from v
        returning table_id, version_id
      )
      select t.table_id, t.version_id, v.file_id from t join v on v.version_id = t.version_id`)).rows[0] as {
      table_id: number;
      version_id: number;
      file_id: number;
    };
    if (table.rows.length > 0) {
      await db.execute(sql`insert into file_table_row (table_id, row_index, data)
        select ${created.table_id}, (row.ordinality - 1)::integer, row.value
        from jsonb_array_elements(${JSON.stringify(table.rows)}::jsonb) with ordinality row`);
    }
    tables.push({ ...created, columns: table.columns, rows: table.rows });
  }
  const jobs: ExportFixture["jobs"] = [];
  for (const job of spec.jobs) {
    const tableId = tables[job.table]!.table_id;
    const created = (await db.execute(sql`insert into annotation_job (project_id, table_id, name, status, row_start, row_end)
      values (${project.project_id}, ${tableId}, ${unique("job")}, ${job.status}::annotation_job_status, ${job.row_start}, ${job.row_end})
      returning job_id`)).rows[0] as { job_id: number };
    const annotations = Object.entries(job.annotations ?? {}).map(([rowIndex, data]) => ({ row_index: Number(rowIndex), data }));
    if (annotations.length > 0) {
      // own_final / own_agreed are stored by storeConsensus, as the API's save stores them.
      await db.execute(sql`insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, updated_by)
        select ${created.job_id}, (item->>'row_index')::integer, ${annotatorId}, item->'data', '{}'::jsonb, false, ${annotatorId}
        from jsonb_array_elements(${JSON.stringify(annotations)}::jsonb) item`);
      await storeConsensus(created.job_id);
    }
    for (const [order, status] of (job.reviews ?? []).entries()) {
      await db.execute(sql`insert into review (job_id, reviewer_id, status, created_at)
        values (${created.job_id}, ${reviewerId}, ${status}::review_status, now() + make_interval(secs => ${order}))`);
    }
    jobs.push({ ...job, job_id: created.job_id });
  }
  return { org_id: orgId, project_id: project.project_id, annotator_id: annotatorId, reviewer_id: reviewerId, tables, jobs };
}

/**
 * `rows` rows of about `rowBytes` bytes each in one table, every row annotated, in one
 * approved job: enough bytes for several 5 MiB parts without a slow fixture.
 */
export async function createLargeExportFixture(rows: number, rowBytes: number): Promise<ExportFixture & { job_id: number }> {
  const fixture = await createExportFixture({ tables: [{ columns: ["id", "text", "padding"], rows: [] }], jobs: [] });
  const table = fixture.tables[0]!;
  // Multi-byte characters so part boundaries fall inside UTF-8 sequences too.
  await db.execute(sql`insert into file_table_row (table_id, row_index, data)
    select ${table.table_id}, g, jsonb_build_object('id', g, 'text', 'Zeile ' || g || ' — «ä» 🚀, "quoted"',
      'padding', repeat(chr(97 + g % 26), ${rowBytes}))
    from generate_series(0, ${rows - 1}) g`);
  await db.execute(sql`update file_table set row_count = ${rows} where table_id = ${table.table_id}`);
  const job = (await db.execute(sql`insert into annotation_job (project_id, table_id, name, status, row_start, row_end)
    values (${fixture.project_id}, ${table.table_id}, ${unique("big job")}, 'reviewed', 0, ${rows - 1}) returning job_id`)).rows[0] as { job_id: number };
  await db.execute(sql`insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, updated_by)
    select ${job.job_id}, g, ${fixture.annotator_id}, jsonb_build_object('label', case when g % 3 = 0 then 'cat' else 'dog' end, 'score', g / 7.0),
      '{}'::jsonb, false, ${fixture.annotator_id}
    from generate_series(0, ${rows - 1}) g`);
  await storeConsensus(job.job_id);
  await db.execute(sql`insert into review (job_id, reviewer_id, status) values (${job.job_id}, ${fixture.reviewer_id}, 'approved')`);
  return { ...fixture, job_id: job.job_id };
}

/** An export row as POST would create it, without the queue message. */
export async function insertExport(
  fixture: { project_id: number; org_id: number },
  fields: { format: "jsonl" | "csv" | "json"; scope?: "approved" | "all"; r2_key?: string | null },
): Promise<number> {
  const key = fields.r2_key === undefined ? `exports/${fixture.org_id}/${fixture.project_id}/${crypto.randomUUID()}.${fields.format}` : fields.r2_key;
  const result = await db.execute(sql`insert into export_log (project_id, org_id, format, scope, r2_key)
    values (${fixture.project_id}, ${fixture.org_id}, ${fields.format}::export_format, ${fields.scope ?? "approved"}::export_scope, ${key})
    returning export_id`);
  return (result.rows[0] as { export_id: number }).export_id;
}

export type StoredExport = {
  export_id: number;
  status: string;
  error: string | null;
  r2_key: string;
  multipart_upload_id: string | null;
  uploaded_parts: { part_number: number; etag: string }[];
  row_count: number;
  size_bytes: number;
  sha256: string | null;
  resume_state: Record<string, unknown> | null;
};

export async function storedExport(exportId: number): Promise<StoredExport> {
  const result = await db.execute(sql`select export_id, status, error, r2_key, multipart_upload_id, uploaded_parts,
      row_count::float8 as row_count, size_bytes::float8 as size_bytes, sha256, resume_state
    from export_log where export_id = ${exportId}`);
  return result.rows[0] as StoredExport;
}

export async function exportEvents(exportId: number): Promise<string[]> {
  const result = await db.execute(sql`select action from event_log where entity_type = 'export_log' and entity_id = ${exportId} order by event_id`);
  return (result.rows as { action: string }[]).map((row) => row.action);
}

export async function exportedFiles(exportId: number): Promise<{ file_version_id: number; row_count: number }[]> {
  const result = await db.execute(sql`select file_version_id, row_count::float8 as row_count from exported_file
    where export_id = ${exportId} order by file_version_id`);
  return result.rows as { file_version_id: number; row_count: number }[];
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
