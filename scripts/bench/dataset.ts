/**
 * The realistic dataset the load runs against, seeded set-based (INSERT … SELECT over
 * generate_series, one statement per table) straight into the fresh database:
 *
 *   organizations × projectsPerOrganization projects, each with pm and client pm;
 *   the first `datasetProjectsPerOrganization` projects of each organization hold one
 *   parsed CSV (file → version → table of `rowsPerTable` rows);
 *   every table is cut into `jobsPerTable` jobs of `rowsPerJob` rows (several jobs per
 *   row range, like successive annotation passes), each with one annotator assignment;
 *   the first `annotationsPerJob` rows of every job are annotated (with one revision each);
 *   the dataset projects with an even id carry a label schema (label, confidence, note);
 *   each response and each annotated row has its consensus stored, as saves store it;
 *   every tenth job of the first organization has three annotators, each with a response
 *   on those rows (`annotations_per_row` 3): two agree on the label, one may not.
 *
 * Everyone's password is BENCH_PASSWORD; the load logs in through the API like a client.
 */
import pg from "pg";
import { hashPassword } from "../../src/features/auth/password.ts";

export const BENCH_PASSWORD = "bench-password-not-secret";

export type DatasetSize = {
  organizations: number;
  projectsPerOrganization: number;
  datasetProjectsPerOrganization: number;
  rowsPerTable: number;
  jobsPerTable: number;
  rowsPerJob: number;
  annotationsPerJob: number;
  annotators: number;
  pms: number;
};

export const DEFAULT_DATASET: DatasetSize = {
  organizations: 20,
  projectsPerOrganization: 100,
  datasetProjectsPerOrganization: 10,
  rowsPerTable: 1_000,
  jobsPerTable: 100,
  rowsPerJob: 100,
  annotationsPerJob: 25,
  annotators: 50,
  pms: 10,
};

type BenchJob = { job_id: number; row_start: number; row_end: number };

/** What the bench's label schema asks: the seeded annotations answer it. */
const BENCH_QUESTIONS = [
  { name: "label", type: "label", required: true, options: ["positive", "negative", "neutral"] },
  { name: "confidence", type: "number", required: false, min: 0, max: 1 },
  { name: "note", type: "text", required: false },
];

export type Dataset = {
  size: DatasetSize;
  seed_ms: number;
  /** client_admin of the first organization: reads projects, /auth/me. */
  reader: { email: string; org_id: number; project_ids: number[] };
  /** client_admin of the second organization: creates projects. */
  writer: { email: string; org_id: number };
  /**
   * An annotator and the jobs they are assigned to, with each job's row range: `jobs` in
   * projects without a label schema, `schema_jobs` in projects with one.
   */
  annotator: { email: string; jobs: BenchJob[]; schema_jobs: BenchJob[] };
  /** The pm, reviewing jobs whose rows have three responses each (submitted, so their rows take verdicts). */
  reviewer: { email: string; jobs: BenchJob[] };
  /** A platform pm who manages the first organization's projects (parse and export requests). */
  pm: { email: string };
  admin: { email: string };
};

/** The seed, in order; each entry is one set-based statement. */
function statements(size: DatasetSize, passwordHash: string): { label: string; sql: string; params?: unknown[] }[] {
  const rangesPerTable = Math.max(1, Math.floor(size.rowsPerTable / size.rowsPerJob));
  return [
    {
      label: "organizations",
      sql: `insert into organization (name, kind)
        select 'Bench Client ' || lpad(g::text, 3, '0'), 'client' from generate_series(1, $1::int) g`,
      params: [size.organizations],
    },
    {
      label: "users",
      // Per client organization: one client_admin and two client_members; platform: pms,
      // annotators and one admin. One shared password hash (hashing is the slow part).
      sql: `with clients as (
          select org_id, row_number() over (order by org_id) as n from organization where kind = 'client'
        ), platform as (select org_id from organization where kind = 'platform')
        insert into "user" (org_id, email, full_name, password_hash)
        select org_id, 'admin' || n || '@bench-client.test', 'Client Admin ' || n, $1 from clients
        union all select org_id, 'member' || n || '-' || m || '@bench-client.test', 'Client Member ' || n || '-' || m, $1
          from clients, generate_series(1, 2) m
        union all select org_id, 'pm' || g || '@bench-platform.test', 'PM ' || g, $1 from platform, generate_series(1, $2::int) g
        union all select org_id, 'annotator' || g || '@bench-platform.test', 'Annotator ' || g, $1 from platform, generate_series(1, $3::int) g
        union all select org_id, 'admin@bench-platform.test', 'Bench Admin', $1 from platform`,
      params: [passwordHash, size.pms, size.annotators],
    },
    {
      label: "user roles",
      sql: `insert into user_role (user_id, role_id)
        select u.user_id, r.role_id from "user" u join role r on r.name = case
          when u.email like 'admin%@bench-client.test' then 'client_admin'
          when u.email like 'member%@bench-client.test' then 'client_member'
          when u.email like 'pm%@bench-platform.test' then 'pm'
          when u.email like 'annotator%@bench-platform.test' then 'annotator'
          when u.email = 'admin@bench-platform.test' then 'admin' end`,
    },
    {
      label: "projects",
      sql: `with clients as (
          select org_id, row_number() over (order by org_id) as n from organization where kind = 'client'
        ), pms as (
          select user_id, row_number() over (order by user_id) - 1 as i from "user" where email like 'pm%@bench-platform.test'
        )
        insert into project (org_id, name, description, status, our_pm_id, client_pm_id, created_at, updated_at)
        select c.org_id, 'Project ' || lpad(g::text, 4, '0'), 'Bench project ' || g || ' of client ' || c.n,
          (array['draft','ready_for_annotation','in_progress','completed','archived']::project_status[])[1 + g % 5],
          -- The first organization's projects all belong to pm1, so pm1 sees a realistic portfolio.
          (select user_id from pms where i = case when c.n = 1 then 0 else (c.n + g) % $2::int end),
          (select user_id from "user" where email = 'admin' || c.n || '@bench-client.test'),
          now() - make_interval(mins => g), now() - make_interval(mins => g)
        from clients c, generate_series(1, $1::int) g`,
      params: [size.projectsPerOrganization, size.pms],
    },
    {
      label: "files",
      sql: `insert into file (project_id, org_id, filename, content_type, file_type, status)
        select p.project_id, p.org_id, 'dataset-' || p.project_id || '.csv', 'text/csv', 'dataset', 'in_progress'
        from (select project_id, org_id, row_number() over (partition by org_id order by project_id) as k from project) p
        where p.k <= $1::int`,
      params: [size.datasetProjectsPerOrganization],
    },
    {
      label: "file versions",
      sql: `insert into file_version (file_id, version_number, filename, r2_key, size_bytes, content_type, status, parse_status,
          parse_progress_done, parse_progress_total, completed_at)
        select file_id, 1, filename, 'bench/' || file_id || '/v1', $1::bigint, content_type, 'ready', 'succeeded', $1::bigint, $1::bigint, now()
        from file`,
      params: [size.rowsPerTable * 200],
    },
    { label: "current versions", sql: `update file f set current_version_id = v.version_id from file_version v where v.file_id = f.file_id` },
    {
      label: "tables",
      sql: `insert into file_table (version_id, name, state, columns, row_count)
        select version_id, 'dataset', 'active',
          '[{"name":"id","type":"integer","nullable":false},{"name":"text","type":"string","nullable":false},{"name":"source","type":"string","nullable":false},{"name":"score","type":"number","nullable":true},{"name":"flagged","type":"boolean","nullable":false}]'::jsonb,
          $1::int
        from file_version`,
      params: [size.rowsPerTable],
    },
    {
      label: "table rows",
      sql: `insert into file_table_row (table_id, row_index, data)
        select t.table_id, g, jsonb_build_object(
          'id', g + 1,
          'text', 'Customer message ' || g || ': ' || repeat(md5((t.table_id * 100000 + g)::text), 3),
          'source', (array['email','chat','phone','social'])[1 + g % 4],
          'score', case when g % 7 = 0 then null else round(((g * 37) % 1000) / 10.0, 1) end,
          'flagged', g % 11 = 0)
        from file_table t, generate_series(0, $1::int - 1) g`,
      params: [size.rowsPerTable],
    },
    {
      label: "annotation jobs",
      sql: `insert into annotation_job (project_id, table_id, name, status, priority, row_start, row_end, instructions, created_by)
        select f.project_id, t.table_id, 'Pass ' || (j / $2::int + 1) || ' rows ' || ((j % $2::int) * $3::int),
          'in_progress', (array['low','medium','high']::job_priority[])[1 + j % 3],
          (j % $2::int) * $3::int, (j % $2::int) * $3::int + $3::int - 1, 'Label the sentiment of each message.',
          (select user_id from "user" where email = 'admin@bench-platform.test')
        from file_table t join file_version v on v.version_id = t.version_id join file f on f.file_id = v.file_id,
          generate_series(0, $1::int - 1) j`,
      params: [size.jobsPerTable, rangesPerTable, size.rowsPerJob],
    },
    {
      label: "assignments",
      sql: `with annotators as (
          select user_id, row_number() over (order by user_id) - 1 as i from "user" where email like 'annotator%@bench-platform.test'
        )
        insert into assignment (job_id, user_id, role, assigned_by)
        select j.job_id, a.user_id, 'annotator', j.created_by from annotation_job j join annotators a on a.i = j.job_id % $1::int`,
      params: [size.annotators],
    },
    {
      label: "label schemas",
      sql: `insert into label_schema (project_id, questions)
        select distinct f.project_id, $1::jsonb from file f where f.project_id % 2 = 0`,
      params: [JSON.stringify(BENCH_QUESTIONS)],
    },
    {
      label: "annotations",
      sql: `insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, version, updated_by)
        select j.job_id, j.row_start + g, s.user_id, d.data, own.final, own.agreed, 1, s.user_id
        from annotation_job j join assignment s on s.job_id = j.job_id, generate_series(0, $1::int - 1) g
        cross join lateral (select jsonb_build_object('label', (array['positive','negative','neutral'])[1 + (j.job_id + g) % 3],
          'confidence', ((j.job_id + g) % 100) / 100.0) as data) d
        cross join lateral annotation_consensus(jsonb_build_array(d.data),
          (select ls.questions from label_schema ls where ls.project_id = j.project_id), null) own`,
      params: [size.annotationsPerJob],
    },
    {
      label: "annotation revisions",
      sql: `insert into annotation_revision (job_id, row_index, annotator_id, version, data, created_by, created_at)
        select job_id, row_index, annotator_id, version, data, updated_by, updated_at from annotation`,
    },
    {
      label: "jobs with three annotators",
      sql: `with overlap as (
          select j.job_id from annotation_job j join project p on p.project_id = j.project_id
          where p.org_id = (select org_id from "user" where email = 'admin1@bench-client.test') and j.job_id % 10 = 0
        ), annotators as (
          select user_id, row_number() over (order by user_id) - 1 as i from "user" where email like 'annotator%@bench-platform.test'
        ), more as (
          select o.job_id, a.user_id from overlap o, generate_series(1, 2) k join annotators a on true
          where a.i = (o.job_id + k) % $1::int
        ), assigned as (
          insert into assignment (job_id, user_id, role, assigned_by)
          select more.job_id, more.user_id, 'annotator', j.created_by from more join annotation_job j on j.job_id = more.job_id
        ), per_row as (
          update annotation_job set annotations_per_row = 3 where job_id in (select job_id from overlap)
        )
        insert into annotation (job_id, row_index, annotator_id, data, own_final, own_agreed, version, updated_by)
        select a.job_id, a.row_index, more.user_id, d.data, own.final, own.agreed, 1, more.user_id
        from annotation a join more on more.job_id = a.job_id join annotation_job j on j.job_id = a.job_id
        cross join lateral (select jsonb_build_object('label', case when (a.row_index + more.user_id) % 3 = 0 then 'neutral' else a.data->>'label' end,
          'confidence', a.data->'confidence') as data) d
        cross join lateral annotation_consensus(jsonb_build_array(d.data),
          (select ls.questions from label_schema ls where ls.project_id = j.project_id), null) own`,
      params: [size.annotators],
    },
    {
      // Submitted, awaiting the pm's review: row verdicts (PUT …/review) need it.
      label: "jobs awaiting review",
      sql: `update annotation_job set status = 'submitted', submitted_at = now() where annotations_per_row = 3`,
    },
    {
      label: "their revisions",
      sql: `insert into annotation_revision (job_id, row_index, annotator_id, version, data, created_by, created_at)
        select a.job_id, a.row_index, a.annotator_id, a.version, a.data, a.updated_by, a.updated_at from annotation a
        where not exists (select 1 from annotation_revision r
          where r.job_id = a.job_id and r.row_index = a.row_index and r.annotator_id = a.annotator_id)`,
    },
    {
      // As the saves store it (src/features/responses/consensus.ts), for every annotated row.
      label: "row consensus",
      sql: `insert into row_consensus (job_id, row_index, responses_count, final, agreed)
        select k.job_id, k.row_index, c.responses_count, c.final, c.agreed
        from (select job_id, row_index, jsonb_agg(data order by annotator_id) as responses from annotation group by job_id, row_index) k
        join annotation_job j on j.job_id = k.job_id
        cross join lateral annotation_consensus(k.responses, (select ls.questions from label_schema ls where ls.project_id = j.project_id), null) c`,
    },
    // Hint bits and the visibility map set, statistics taken and the seed's writes flushed,
    // so that the first endpoint measured does not pay for the seed.
    { label: "vacuum", sql: "vacuum analyze" },
    { label: "checkpoint", sql: "checkpoint" },
  ];
}

/** Rows per table once everything is seeded (the export bench adds its project to the dataset). */
export async function countRows(databaseUrl: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const counts: Record<string, number> = {};
    for (const table of COUNTED_TABLES) counts[table] = Number((await client.query(`select count(*) as n from "${table}"`)).rows[0].n);
    return counts;
  } finally {
    await client.end();
  }
}

const COUNTED_TABLES = ["organization", "user", "project", "file", "file_table", "file_table_row", "annotation_job", "assignment", "annotation", "annotation_revision"];

/**
 * Bulk loading: foreign keys are checked by per-row triggers, which make up most of a
 * large INSERT … SELECT (5× on PGlite). The seed's rows reference only rows it made
 * itself, so the session skips them (`session_replication_role = replica`, which needs
 * a superuser: PGlite's user is one; on a server without the right the seed is slower).
 */
export async function startBulkLoad(client: pg.Client): Promise<boolean> {
  try {
    await client.query("set session_replication_role = replica");
    return true;
  } catch {
    return false;
  }
}

/** A seeding step: runs one statement, logs how long it took, answers its rows. */
export function seedingStep(client: pg.Client, log: (line: string) => void) {
  return async (label: string, text: string, params: unknown[] = []) => {
    const started = performance.now();
    const result = await client.query(text, params);
    log(`  seeded ${label} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return result.rows;
  };
}

export async function seedDataset(databaseUrl: string, size: DatasetSize, log: (line: string) => void): Promise<Dataset> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    if (!(await startBulkLoad(client))) log("  (no superuser: foreign keys are checked row by row, the seed takes longer)");
    const passwordHash = await hashPassword(BENCH_PASSWORD);
    const step = seedingStep(client, log);
    for (const statement of statements(size, passwordHash)) await step(statement.label, statement.sql, statement.params);
    const one = async (text: string, params: unknown[] = []) => (await client.query(text, params)).rows;
    const [reader] = await one(`select u.email, u.org_id from "user" u where u.email = 'admin1@bench-client.test'`);
    const [writer] = await one(`select u.email, u.org_id from "user" u where u.email = 'admin2@bench-client.test'`);
    const readerProjects = await one(`select project_id from project where org_id = $1 order by project_id`, [reader.org_id]);
    const annotatorJobs = (await one(`select j.job_id, j.row_start, j.row_end, j.project_id % 2 = 0 as schema from annotation_job j
      join assignment s on s.job_id = j.job_id join "user" u on u.user_id = s.user_id
      where u.email = 'annotator1@bench-platform.test' and j.annotations_per_row is null order by j.job_id`)) as (BenchJob & { schema: boolean })[];
    const job = ({ job_id, row_start, row_end }: BenchJob) => ({ job_id, row_start, row_end });
    const reviewedJobs = await one(`select j.job_id, j.row_start, j.row_end from annotation_job j
      where j.annotations_per_row = 3 order by j.job_id`);
    return {
      size,
      seed_ms: performance.now() - started,
      reader: { email: reader.email, org_id: reader.org_id, project_ids: readerProjects.map((row) => row.project_id) },
      writer: { email: writer.email, org_id: writer.org_id },
      annotator: {
        email: "annotator1@bench-platform.test",
        jobs: annotatorJobs.filter((candidate) => !candidate.schema).map(job),
        schema_jobs: annotatorJobs.filter((candidate) => candidate.schema).map(job),
      },
      reviewer: { email: "pm1@bench-platform.test", jobs: reviewedJobs.map(job) },
      pm: { email: "pm1@bench-platform.test" },
      admin: { email: "admin@bench-platform.test" },
    };
  } finally {
    await client.end();
  }
}
