import { and, eq, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  annotation,
  annotationJob,
  annotationRevision,
  assignment,
  comment,
  eventLog,
  exportedFile,
  exportLog,
  file,
  fileTable,
  fileTableRow,
  fileVersion,
  idempotencyKey,
  organization,
  project,
  review,
  user,
} from "../src/db/schema/index.ts";
import { sql, testDb } from "./helpers/db.ts";

/**
 * Each constraint doing its job against the real database. Every test builds its own
 * tenant with unique names and leans on no seeded row and no other test.
 */
const db = testDb();

const unique = (label: string) => `${label} ${crypto.randomUUID()}`;

/** The SQLSTATE and constraint of a failed query (drizzle wraps driver errors in `cause`). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; constraint: string | undefined }> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  if (!error) throw new Error("expected the statement to fail, but it succeeded");
  let current: any = error;
  while (current && !current.code && current.cause) current = current.cause;
  return { code: current?.code, constraint: current?.constraint };
}

async function createOrganization() {
  const [org] = await db.insert(organization).values({ name: unique("Org"), kind: "client" }).returning();
  return org!;
}

async function createUser(org_id: number) {
  const email = `${crypto.randomUUID()}@constraints.test`;
  const [row] = await db.insert(user).values({ org_id, email, full_name: "Test User", password_hash: "x" }).returning();
  return row!;
}

async function createProject(org_id: number, values: Partial<typeof project.$inferInsert> = {}) {
  const [row] = await db.insert(project).values({ org_id, name: unique("Project"), ...values }).returning();
  return row!;
}

/** A project with one dataset file, a ready version, a parsed table of ten rows and a job over them. */
async function createJobFixture() {
  const org = await createOrganization();
  const member = await createUser(org.org_id);
  const proj = await createProject(org.org_id);
  const [dataset] = await db
    .insert(file)
    .values({ project_id: proj.project_id, org_id: org.org_id, filename: "rows.csv", content_type: "text/csv", file_type: "dataset" })
    .returning();
  const [version] = await db
    .insert(fileVersion)
    .values({
      file_id: dataset!.file_id,
      version_number: 1,
      filename: "rows.csv",
      r2_key: `test/${crypto.randomUUID()}`,
      size_bytes: 10,
      content_type: "text/csv",
      status: "ready",
      parse_status: "succeeded",
      completed_at: sql`now()`,
    })
    .returning();
  const [table] = await db.insert(fileTable).values({ version_id: version!.version_id, name: "rows", row_count: 10 }).returning();
  const [job] = await db
    .insert(annotationJob)
    .values({ project_id: proj.project_id, table_id: table!.table_id, name: unique("Job"), row_start: 0, row_end: 9 })
    .returning();
  return { org, member, project: proj, file: dataset!, version: version!, table: table!, job: job! };
}

describe("unique constraints", () => {
  it("rejects a second live project with the same name in an organization (23505)", async () => {
    const org = await createOrganization();
    const name = unique("Clash");
    await createProject(org.org_id, { name });
    const clash = await failure(createProject(org.org_id, { name }));
    expect(clash).toEqual({ code: "23505", constraint: "project_org_id_name_live_idx" });
  });

  it("lets a soft-deleted project's name be reused, and by another organization", async () => {
    const org = await createOrganization();
    const name = unique("Reused");
    const first = await createProject(org.org_id, { name });
    await db.update(project).set({ deleted_at: sql`now()` }).where(eq(project.project_id, first.project_id));
    const second = await createProject(org.org_id, { name });
    const elsewhere = await createProject((await createOrganization()).org_id, { name });

    expect(second.project_id).not.toBe(first.project_id);
    expect(elsewhere.name).toBe(name);
    const live = await db
      .select()
      .from(project)
      .where(and(eq(project.org_id, org.org_id), eq(project.name, name), isNull(project.deleted_at)));
    expect(live.map((row) => row.project_id)).toEqual([second.project_id]);
  });

  it("keeps emails unique and lower-case", async () => {
    const org = await createOrganization();
    const existing = await createUser(org.org_id);
    const duplicate = db.insert(user).values({ org_id: org.org_id, email: existing.email, full_name: "Again", password_hash: "x" });
    expect(await failure(duplicate)).toEqual({ code: "23505", constraint: "user_email_unique" });
    const upper = db
      .insert(user)
      .values({ org_id: org.org_id, email: `Mixed.${crypto.randomUUID()}@Constraints.test`, full_name: "Upper", password_hash: "x" });
    expect(await failure(upper)).toEqual({ code: "23514", constraint: "user_email_lower_case" });
  });

  it("allows only one platform organization", async () => {
    // In one transaction (a batch) so nothing is left behind whether or not one exists already.
    const attempt = db.batch([
      db.insert(organization).values({ name: unique("Platform A"), kind: "platform" }),
      db.insert(organization).values({ name: unique("Platform B"), kind: "platform" }),
    ]);
    expect(await failure(attempt)).toEqual({ code: "23505", constraint: "organization_single_platform_idx" });
  });
});

describe("check constraints (23514)", () => {
  it("rejects non-positive estimated hours and an inverted row range", async () => {
    const { project: proj, table } = await createJobFixture();
    const base = { project_id: proj.project_id, table_id: table.table_id, name: unique("Bad job") };
    const hours = await failure(db.insert(annotationJob).values({ ...base, row_start: 0, row_end: 5, estimated_hours: 0 }));
    expect(hours).toEqual({ code: "23514", constraint: "annotation_job_estimated_hours_positive" });
    const range = await failure(db.insert(annotationJob).values({ ...base, row_start: 6, row_end: 5 }));
    expect(range).toEqual({ code: "23514", constraint: "annotation_job_row_range_ordered" });
    const negative = await failure(db.insert(annotationJob).values({ ...base, row_start: -1, row_end: 5 }));
    expect(negative).toEqual({ code: "23514", constraint: "annotation_job_row_start_non_negative" });
  });

  it("rejects a due date before the job's creation day", async () => {
    const { job } = await createJobFixture();
    const past = db.update(annotationJob).set({ due_date: "2000-01-01" }).where(eq(annotationJob.job_id, job.job_id));
    expect(await failure(past)).toEqual({ code: "23514", constraint: "annotation_job_due_not_before_creation" });
  });

  it("rejects negative sizes and counts", async () => {
    const { version, table, project: proj } = await createJobFixture();
    const size = db.update(fileVersion).set({ size_bytes: -1 }).where(eq(fileVersion.version_id, version.version_id));
    expect(await failure(size)).toEqual({ code: "23514", constraint: "file_version_size_bytes_non_negative" });
    const rows = db.update(fileTable).set({ row_count: -1 }).where(eq(fileTable.table_id, table.table_id));
    expect(await failure(rows)).toEqual({ code: "23514", constraint: "file_table_row_count_non_negative" });
    const exported = db.insert(exportLog).values({ project_id: proj.project_id, org_id: proj.org_id, format: "csv", size_bytes: -5 });
    expect(await failure(exported)).toEqual({ code: "23514", constraint: "export_log_size_bytes_non_negative" });
  });

  it("rejects a completed idempotency record without a stored response", async () => {
    const incomplete = db.insert(idempotencyKey).values({
      caller: `user:${crypto.randomUUID()}`,
      key: crypto.randomUUID(),
      method: "POST",
      path: "/api/v1/projects",
      request_hash: "h",
      status: "completed",
    });
    expect(await failure(incomplete)).toEqual({ code: "23514", constraint: "idempotency_key_completed_has_response" });
  });
});

describe("ON DELETE rules", () => {
  it("CASCADE: deleting a job removes its assignments, annotations with their history, reviews and comments", async () => {
    const { job, member } = await createJobFixture();
    await db.insert(assignment).values({ job_id: job.job_id, user_id: member.user_id, role: "annotator" });
    await db.insert(annotation).values({ job_id: job.job_id, row_index: 3, annotator_id: member.user_id, data: { label: "cat" }, own_final: { label: "cat" }, own_agreed: true });
    await db.insert(annotationRevision).values({ job_id: job.job_id, row_index: 3, annotator_id: member.user_id, version: 1, data: { label: "cat" } });
    await db.insert(review).values({ job_id: job.job_id, reviewer_id: member.user_id, status: "approved" });
    const [root] = await db.insert(comment).values({ job_id: job.job_id, body: "root" }).returning();
    await db.insert(comment).values({ job_id: job.job_id, body: "reply", parent_comment_id: root!.comment_id });

    await db.delete(annotationJob).where(eq(annotationJob.job_id, job.job_id));

    const [left] = (
      await db.execute(sql`
        select (select count(*) from assignment where job_id = ${job.job_id})::int as assignments,
               (select count(*) from annotation where job_id = ${job.job_id})::int as annotations,
               (select count(*) from annotation_revision where job_id = ${job.job_id})::int as revisions,
               (select count(*) from review where job_id = ${job.job_id})::int as reviews,
               (select count(*) from comment where job_id = ${job.job_id})::int as comments`)
    ).rows;
    expect(left).toEqual({ assignments: 0, annotations: 0, revisions: 0, reviews: 0, comments: 0 });
  });

  it("CASCADE: purging a project removes its files, versions, tables, rows, jobs and exports in one statement", async () => {
    const { project: proj, version, table, job } = await createJobFixture();
    await db.insert(fileTableRow).values({ table_id: table.table_id, row_index: 0, data: { text: "hello" } });
    const [exported] = await db.insert(exportLog).values({ project_id: proj.project_id, org_id: proj.org_id, format: "jsonl" }).returning();
    await db.insert(exportedFile).values({ export_id: exported!.export_id, file_version_id: version.version_id });

    await db.delete(project).where(eq(project.project_id, proj.project_id));

    expect(await db.select().from(fileVersion).where(eq(fileVersion.version_id, version.version_id))).toEqual([]);
    expect(await db.select().from(fileTableRow).where(eq(fileTableRow.table_id, table.table_id))).toEqual([]);
    expect(await db.select().from(annotationJob).where(eq(annotationJob.job_id, job.job_id))).toEqual([]);
    expect(await db.select().from(exportedFile).where(eq(exportedFile.export_id, exported!.export_id))).toEqual([]);
  });

  it("SET NULL: deleting a user keeps the projects they managed and the events they caused", async () => {
    const org = await createOrganization();
    const pm = await createUser(org.org_id);
    const proj = await createProject(org.org_id, { our_pm_id: pm.user_id, client_pm_id: pm.user_id });
    const [event] = await db
      .insert(eventLog)
      .values({ org_id: org.org_id, project_id: proj.project_id, actor_id: pm.user_id, action: "project.create", entity_type: "project", entity_id: proj.project_id })
      .returning();

    await db.delete(user).where(eq(user.user_id, pm.user_id));

    const [after] = await db.select().from(project).where(eq(project.project_id, proj.project_id));
    expect(after).toMatchObject({ our_pm_id: null, client_pm_id: null, name: proj.name });
    const [history] = await db.select().from(eventLog).where(eq(eventLog.event_id, event!.event_id));
    expect(history).toMatchObject({ actor_id: null, action: "project.create", entity_id: proj.project_id });
  });

  it("SET NULL: a version's deletion leaves its file without a current version", async () => {
    const { file: dataset, version, table } = await createJobFixture();
    await db.update(file).set({ current_version_id: version.version_id }).where(eq(file.file_id, dataset.file_id));
    // The job on the version's table blocks the deletion until it is gone.
    await db.delete(annotationJob).where(eq(annotationJob.table_id, table.table_id));
    await db.delete(fileVersion).where(eq(fileVersion.version_id, version.version_id));
    const [after] = await db.select().from(file).where(eq(file.file_id, dataset.file_id));
    expect(after?.current_version_id).toBeNull();
  });

  it("RESTRICT / NO ACTION: an organization with users, or a table with jobs, is not deleted on its own", async () => {
    const { org, table } = await createJobFixture();
    const orgDelete = await failure(db.delete(organization).where(eq(organization.org_id, org.org_id)));
    // PostgreSQL 18 reports RESTRICT as 23001 restrict_violation; 15–17 as 23503.
    expect(orgDelete).toEqual({ code: expect.stringMatching(/^(23001|23503)$/), constraint: "user_org_id_organization_org_id_fk" });
    const tableDelete = await failure(db.delete(fileTable).where(eq(fileTable.table_id, table.table_id)));
    expect(tableDelete).toEqual({ code: "23503", constraint: "annotation_job_table_id_file_table_table_id_fk" });
  });
});

describe("composite foreign keys", () => {
  it("keep a file's tenant key equal to its project's organization", async () => {
    const { project: proj } = await createJobFixture();
    const other = await createOrganization();
    const mismatched = db
      .insert(file)
      .values({ project_id: proj.project_id, org_id: other.org_id, filename: "x.csv", content_type: "text/csv", file_type: "dataset" });
    expect(await failure(mismatched)).toEqual({ code: "23503", constraint: "file_project_fk" });
  });

  it("keep a reply in its parent comment's job", async () => {
    const first = await createJobFixture();
    const second = await createJobFixture();
    const [root] = await db.insert(comment).values({ job_id: first.job.job_id, body: "root" }).returning();
    const stray = db.insert(comment).values({ job_id: second.job.job_id, body: "reply", parent_comment_id: root!.comment_id });
    expect(await failure(stray)).toEqual({ code: "23503", constraint: "comment_parent_fk" });
  });
});
