/**
 * Migration 0010 (several annotators per row) on data of the old shape: every annotation
 * becomes the response of its last editor, its revisions follow it, nothing else changes;
 * and 0016 stores the consensus of every response and row.
 * The migrations are applied, as drizzle's migrator would, to a scratch schema of the test
 * database (their `"public".` qualifiers pointed at it): 0000–0009, then old-shape rows,
 * then 0010 and the rest; every value and revision is compared.
 */
import { afterAll, describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";

const db = testDb();
const schema = `migration_0010_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;

const files = import.meta.glob("../drizzle/*.sql", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const migrations = Object.entries(files)
  .map(([path, text]) => ({ name: path.split("/").pop()!, text }))
  .sort((a, b) => a.name.localeCompare(b.name));

function statements(text: string): string[] {
  return text.replaceAll('"public".', `"${schema}".`).split("--> statement-breakpoint").map((statement) => statement.trim()).filter(Boolean);
}

/** Runs statements in one transaction with the scratch schema first on the search path. */
async function inScratch(texts: string[], prelude: string[] = []) {
  const all = [`set local search_path to "${schema}"`, ...prelude, ...texts.flatMap(statements)];
  const [first, ...rest] = all.map((statement) => db.execute(sql.raw(statement)));
  return db.batch([first!, ...rest]);
}

async function rows<T>(query: string): Promise<T[]> {
  const [, result] = await inScratch([query]);
  return (result as { rows: T[] }).rows;
}

const OLD_SHAPE = `
insert into "user" (user_id, org_id, email, full_name, password_hash) overriding system value values
  (10, 1, 'ten@example.test', 'Ten', 'x'), (11, 1, 'eleven@example.test', 'Eleven', 'x'), (12, 1, 'twelve@example.test', 'Twelve', 'x');
--> statement-breakpoint
insert into annotation_job (job_id, project_id, table_id, name, status, row_start, row_end, created_at, submitted_at) overriding system value values
  (1, 1, 1, 'open job', 'in_progress', 0, 5, '2026-01-01T00:00:00Z', null),
  (2, 1, 1, 'submitted job', 'submitted', 0, 5, '2026-01-01T00:00:00Z', '2026-01-03T09:00:00Z');
--> statement-breakpoint
insert into annotation (job_id, row_index, data, version, updated_by, created_at, updated_at) values
  (1, 0, '{"label": "a", "nested": {"k": [1, 2]}}', 3, 10, '2026-01-01T10:00:00Z', '2026-01-01T12:00:00Z'),
  (1, 1, '{"label": "b"}', 1, null, '2026-01-01T10:00:00Z', '2026-01-01T10:00:00Z'),
  (2, 0, '{"x": 1}', 2, 11, '2026-01-02T10:00:00Z', '2026-01-02T11:00:00Z'),
  (2, 1, '"a bare value"', 1, null, '2026-01-02T10:00:00Z', '2026-01-02T10:00:00Z');
--> statement-breakpoint
insert into annotation_revision (job_id, row_index, version, data, created_by, created_at) values
  (1, 0, 1, '{"label": "z"}', 11, '2026-01-01T10:00:00Z'),
  (1, 0, 2, '{"label": "y"}', 10, '2026-01-01T11:00:00Z'),
  (1, 0, 3, '{"label": "a", "nested": {"k": [1, 2]}}', 10, '2026-01-01T12:00:00Z'),
  (1, 1, 1, '{"label": "b"}', 12, '2026-01-01T10:00:00Z'),
  (2, 0, 1, '{"x": 0}', 11, '2026-01-02T10:00:00Z'),
  (2, 0, 2, '{"x": 1}', 11, '2026-01-02T11:00:00Z'),
  (2, 1, 1, '"a bare value"', null, '2026-01-02T10:00:00Z')`;

const ANNOTATIONS = `select job_id, row_index, data, version, updated_by, created_at::text, updated_at::text from annotation order by job_id, row_index`;
const REVISIONS = `select revision_id::int, job_id, row_index, version, data, created_by, created_at::text from annotation_revision order by revision_id`;

afterAll(async () => {
  await db.execute(sql.raw(`drop schema if exists "${schema}" cascade`));
});

describe("migration 0010: annotations become their last editor's responses", () => {
  it("keeps every value and revision, and names each response's annotator", async () => {
    const split = migrations.findIndex((migration) => migration.name.startsWith("0010_"));
    expect(split).toBeGreaterThan(0);
    await db.execute(sql.raw(`create schema "${schema}"`));
    await inScratch(migrations.slice(0, split).map((migration) => migration.text));
    // Old-shape rows without their parents' whole graph: foreign keys are not what this test is about.
    await inScratch([OLD_SHAPE], ["set local session_replication_role = replica"]);
    const annotationsBefore = await rows<Record<string, unknown>>(ANNOTATIONS);
    const revisionsBefore = await rows<Record<string, unknown>>(REVISIONS);

    await inScratch(migrations.slice(split).map((migration) => migration.text));

    const annotatorsAfter = await rows<{ job_id: number; row_index: number; annotator_id: number }>(
      `select job_id, row_index, annotator_id from annotation order by job_id, row_index`,
    );
    expect(annotatorsAfter).toEqual([
      { job_id: 1, row_index: 0, annotator_id: 10 }, // its last editor
      { job_id: 1, row_index: 1, annotator_id: 12 }, // editor gone (SET NULL): the latest revision's author
      { job_id: 2, row_index: 0, annotator_id: 11 },
      { job_id: 2, row_index: 1, annotator_id: 0 }, // no known author at all
    ]);
    expect(await rows(ANNOTATIONS)).toEqual(annotationsBefore);
    expect(await rows(REVISIONS)).toEqual(revisionsBefore);
    const revisionOwners = await rows<{ mismatched: number }>(`select count(*)::int as mismatched from annotation_revision r
      join annotation a on a.job_id = r.job_id and a.row_index = r.row_index where a.annotator_id <> r.annotator_id`);
    expect(revisionOwners).toEqual([{ mismatched: 0 }]);
    // The submitted job's known annotator counts as having submitted, at the job's submission time.
    expect(await rows(`select job_id, annotator_id, submitted_at::text from job_submission order by job_id, annotator_id`)).toEqual([
      { job_id: 2, annotator_id: 11, submitted_at: expect.stringMatching(/^2026-01-03 09:00:00/) },
    ]);
    // Migration 0016 stores each response's consensus and its row's (no label schema: every key by unanimity).
    const expected = [
      { job_id: 1, row_index: 0, final: { label: "a", nested: { k: [1, 2] } } },
      { job_id: 1, row_index: 1, final: { label: "b" } },
      { job_id: 2, row_index: 0, final: { x: 1 } },
      { job_id: 2, row_index: 1, final: {} }, // a bare value answers no question
    ];
    expect(await rows(`select job_id, row_index, responses_count, final, agreed from row_consensus order by job_id, row_index`))
      .toEqual(expected.map((row) => ({ ...row, responses_count: 1, agreed: true })));
    expect(await rows(`select job_id, row_index, own_final as final from annotation order by job_id, row_index`)).toEqual(expected);
  });
});
