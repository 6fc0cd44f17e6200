/**
 * Annotation tests' fixtures: a client organization's project run by a fresh pm, with a
 * parsed dataset table written straight to the database (uploads and parsing are other
 * features, tested on their own; tests/annotation-workflow.test.ts goes through them),
 * and shortcuts for the API calls most tests repeat.
 */
import { expect } from "vitest";
import { sql, testDb } from "./db.ts";
import { createUser, registerClient, unique, type Account } from "./factories.ts";
import { request } from "./http.ts";

const db = testDb();

export type ParsedTable = { file_id: number; version_id: number; table_id: number; row_count: number };

export type AnnotationProject = ParsedTable & {
  client: Account;
  pm: Account;
  project_id: number;
  org_id: number;
};

/** A parsed CSV's rows, `{text, n}` per row, as the current active table of a new file of the project. */
export async function insertParsedTable(project: { project_id: number; org_id: number }, rowCount: number): Promise<ParsedTable> {
  const result = await db.execute(sql`
    with created_file as (
      insert into file (project_id, org_id, filename, content_type, file_type, status)
      values (${project.project_id}, ${project.org_id}, ${`${unique("data")}.csv`}, 'text/csv', 'dataset', 'ready_for_annotation')
      returning file_id
    ), version as (
      insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status,
        parse_progress_done, parse_progress_total, completed_at)
      select file_id, 1, 'data.csv', ${`test/${crypto.randomUUID()}`}, 100, 'text/csv', 'ready', 'succeeded', 100, 100, now()
      from created_file
      returning version_id, file_id
    ), created_table as (
      insert into file_table (version_id, name, state, columns, row_count)
      select version_id, 'data', 'active', '[{"name":"text","type":"string","nullable":false},{"name":"n","type":"integer","nullable":false}]'::jsonb,
        ${rowCount}::integer
      from version
      returning table_id, version_id
    ), created_rows as (
      insert into file_table_row (table_id, row_index, data)
      select created_table.table_id, i, jsonb_build_object('text', 'row ' || i, 'n', i)
      from created_table, generate_series(0, ${rowCount}::integer - 1) as i
    )
    select version.file_id, version.version_id, created_table.table_id from version, created_table`);
  const table = result.rows[0] as Omit<ParsedTable, "row_count">;
  // A separate statement: an UPDATE cannot see a row inserted by the same statement.
  await db.execute(sql`update file set current_version_id = ${table.version_id} where file_id = ${table.file_id}`);
  return { ...table, row_count: rowCount };
}

/** A fresh client organization with a project (our_pm: a fresh pm) and a parsed table of `rows` rows. */
export async function annotationProject(options: { rows?: number; status?: string } = {}): Promise<AnnotationProject> {
  const [client, pm] = await Promise.all([registerClient(), createUser("pm")]);
  const result = await db.execute(sql`insert into project (org_id, name, our_pm_id, status)
    values (${client.org_id}, ${unique("Annotation Project")}, ${pm.user_id}, ${options.status ?? "ready_for_annotation"}::project_status)
    returning project_id, org_id`);
  const project = result.rows[0] as { project_id: number; org_id: number };
  const table = await insertParsedTable(project, options.rows ?? 10);
  return { client, pm, ...project, ...table };
}

/** POST …/annotation-jobs as `account`, expecting 201; the jobs created. */
export async function createJobs(account: Account, projectId: number, body: Record<string, unknown>) {
  const response = await request("POST", `/api/v1/projects/${projectId}/annotation-jobs`, { token: account.token, body: { priority: "medium", ...body } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body.data as { job_id: number; row_start: number; row_end: number; name: string; status: string }[];
}

export async function createJob(account: Account, projectId: number, body: Record<string, unknown>) {
  const [job] = await createJobs(account, projectId, { name: unique("Job"), ...body });
  return job!;
}

export async function assign(manager: Account, jobId: number, user: Account, role: "annotator" | "reviewer" | "qc") {
  const response = await request("POST", `/api/v1/annotation-jobs/${jobId}/assignments`, { token: manager.token, body: { user_id: user.user_id, role } });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body as { assignment_id: number };
}

export async function annotate(account: Account, jobId: number, rowIndex: number, data: Record<string, unknown>, headers: Record<string, string> = {}) {
  return request("PUT", `/api/v1/annotation-jobs/${jobId}/items/${rowIndex}/annotation`, { token: account.token, body: { data }, headers });
}

/** Annotates rows `from..to` of a job, each expected to save. */
export async function annotateRows(account: Account, jobId: number, from: number, to: number) {
  for (let row = from; row <= to; row++) {
    const response = await annotate(account, jobId, row, { label: `label ${row}` });
    expect([200, 201], JSON.stringify(response.body)).toContain(response.status);
  }
}

export async function setStatus(account: Account, jobId: number, status: string) {
  return request("PATCH", `/api/v1/annotation-jobs/${jobId}`, { token: account.token, body: { status } });
}

/**
 * A job over rows 0..rows-1 with a fresh annotator, reviewer and qc assigned; `state`
 * takes it through the workflow (annotated and submitted) when asked.
 */
export async function staffedJob(options: { rows?: number; state?: "not_started" | "submitted" } = {}) {
  const project = await annotationProject({ rows: options.rows ?? 3 });
  const [annotator, reviewer, qc] = await Promise.all([createUser("annotator"), createUser("reviewer"), createUser("qc")]);
  const job = await createJob(project.pm, project.project_id, { table_id: project.table_id });
  await assign(project.pm, job.job_id, annotator, "annotator");
  await assign(project.pm, job.job_id, reviewer, "reviewer");
  await assign(project.pm, job.job_id, qc, "qc");
  if (options.state === "submitted") {
    await annotateRows(annotator, job.job_id, 0, project.row_count - 1);
    const submitted = await setStatus(annotator, job.job_id, "submitted");
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
  }
  return { ...project, job, annotator, reviewer, qc };
}

export async function eventActions(filter: { project_id?: number; entity_type?: string; entity_id?: number }) {
  const result = await db.execute(sql`select action, entity_type, entity_id::integer as entity_id, before, after, request_id, actor_id from event_log
    where ${filter.project_id === undefined ? sql`true` : sql`project_id = ${filter.project_id}`}
      and ${filter.entity_type === undefined ? sql`true` : sql`entity_type = ${filter.entity_type}`}
      and ${filter.entity_id === undefined ? sql`true` : sql`entity_id = ${filter.entity_id}`}
    order by event_id`);
  return result.rows as { action: string; entity_type: string; entity_id: number; before: unknown; after: unknown; request_id: string; actor_id: number }[];
}
