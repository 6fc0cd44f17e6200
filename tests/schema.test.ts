import { describe, expect, it } from "vitest";
import { sql, testDb } from "./helpers/db.ts";

/**
 * The migrated database itself, read from pg_catalog: names, keys, enums, foreign-key
 * delete rules and indexes are part of the contract, so they are asserted exactly.
 * pg_catalog rather than information_schema because it keeps composite keys' column
 * order and tells RESTRICT from NO ACTION per constraint without joins on names.
 */
const db = testDb();

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  const result = await db.execute(query);
  return result.rows as T[];
}

const SEED_TABLE_KEYS: Record<string, string[]> = {
  organization: ["org_id"],
  user: ["user_id"],
  role: ["role_id"],
  permission: ["permission_id"],
  project: ["project_id"],
  file: ["file_id"],
  file_version: ["version_id"],
  file_table: ["table_id"],
  annotation_job: ["job_id"],
  assignment: ["assignment_id"],
  review: ["review_id"],
  event_log: ["event_id"],
  export_log: ["export_id"],
  exported_file: ["export_id", "file_version_id"],
};

const ADDED_TABLE_KEYS: Record<string, string[]> = {
  role_permission: ["role_id", "permission_id"],
  user_role: ["user_id", "role_id"],
  api_token: ["token_id"],
  refresh_token: ["token_id"],
  file_table_row: ["table_id", "row_index"],
  upload: ["upload_id"],
  annotation: ["job_id", "row_index", "annotator_id"],
  annotation_revision: ["revision_id"],
  comment: ["comment_id"],
  label_schema: ["project_id"],
  job_submission: ["job_id", "annotator_id"],
  row_final: ["job_id", "row_index"],
  row_review: ["job_id", "row_index"],
  row_consensus: ["job_id", "row_index"],
  idempotency_key: ["caller", "key"],
  suggestion: ["table_id", "row_index", "question", "agent"],
  webhook: ["webhook_id"],
  webhook_delivery: ["delivery_id"],
  webhook_dispatch_state: ["singleton"],
  suggestion_import: ["version_id"],
  draft_run: ["draft_id"],
  project_validation_rules: ["project_id"],
  validation_run: ["validation_id"],
  validation_violation: ["validation_id", "row_index", "column", "rule"],
  validation_seen_value: ["validation_id", "column", "value_hash"],
};

const ENUMS: Record<string, string[]> = {
  project_status: ["draft", "ready_for_annotation", "in_progress", "completed", "archived"],
  file_status: ["pending", "ready_for_annotation", "in_progress", "completed", "archived"],
  file_type: ["dataset", "requirement", "report", "llm_output"],
  annotation_job_status: ["not_started", "in_progress", "submitted", "awaiting_qc", "reviewed"],
  review_status: ["pending", "approved", "rejected"],
  language: ["en", "zh", "fr", "de", "es", "ar"],
  job_priority: ["low", "medium", "high"],
  assignment_role: ["annotator", "reviewer", "qc"],
  organization_kind: ["platform", "client"],
  file_version_status: ["pending", "ready"],
  parse_status: ["queued", "running", "succeeded", "failed"],
  upload_status: ["pending", "completed", "aborted"],
  export_status: ["queued", "running", "succeeded", "failed"],
  export_format: ["jsonl", "csv", "json"],
  export_scope: ["approved", "all"],
  actor_kind: ["user", "api_token", "system"],
  idempotency_status: ["in_progress", "completed", "withheld"],
  row_verdict: ["accepted", "rejected"],
  review_stage: ["review", "qc"],
};

/**
 * Every foreign key and its ON DELETE rule: CASCADE where the child means nothing alone,
 * SET NULL where history must survive, RESTRICT / NO ACTION where deletion must be
 * explicit (NO ACTION where a parent's cascade may legitimately remove both sides).
 */
const FOREIGN_KEYS = [
  "annotation(job_id) -> annotation_job CASCADE",
  "annotation(updated_by) -> user SET NULL",
  "annotation_job(created_by) -> user SET NULL",
  "annotation_job(project_id) -> project CASCADE",
  "annotation_job(table_id) -> file_table NO ACTION",
  "annotation_revision(created_by) -> user SET NULL",
  "annotation_revision(job_id,row_index,annotator_id) -> annotation CASCADE",
  "api_token(user_id) -> user CASCADE",
  "assignment(assigned_by) -> user SET NULL",
  "assignment(job_id) -> annotation_job CASCADE",
  "assignment(user_id) -> user CASCADE",
  "comment(author_id) -> user SET NULL",
  "comment(job_id) -> annotation_job CASCADE",
  "comment(parent_comment_id,job_id) -> comment CASCADE",
  "draft_run(created_by) -> user SET NULL",
  "draft_run(table_id) -> file_table CASCADE",
  "event_log(actor_id) -> user SET NULL",
  "event_log(org_id) -> organization SET NULL",
  "event_log(project_id) -> project SET NULL",
  "export_log(project_id,org_id) -> project CASCADE",
  "export_log(requested_by) -> user SET NULL",
  "exported_file(export_id) -> export_log CASCADE",
  "exported_file(file_version_id) -> file_version NO ACTION",
  "file(created_by) -> user SET NULL",
  "file(current_version_id) -> file_version SET NULL",
  "file(project_id,org_id) -> project CASCADE",
  "file_table(version_id) -> file_version CASCADE",
  "file_table_row(table_id) -> file_table CASCADE",
  "file_version(file_id) -> file CASCADE",
  "file_version(uploaded_by) -> user SET NULL",
  "job_submission(annotator_id) -> user CASCADE",
  "job_submission(job_id) -> annotation_job CASCADE",
  "label_schema(project_id) -> project CASCADE",
  "label_schema(updated_by) -> user SET NULL",
  "project(client_pm_id) -> user SET NULL",
  "project(org_id) -> organization RESTRICT",
  "project(our_pm_id) -> user SET NULL",
  "refresh_token(parent_token_id) -> refresh_token SET NULL",
  "refresh_token(user_id) -> user CASCADE",
  "review(job_id) -> annotation_job CASCADE",
  "review(reviewer_id) -> user SET NULL",
  "row_final(job_id) -> annotation_job CASCADE",
  "row_final(set_by) -> user SET NULL",
  "row_review(job_id) -> annotation_job CASCADE",
  "row_review(reviewer_id) -> user SET NULL",
  "row_consensus(job_id) -> annotation_job CASCADE",
  "role_permission(permission_id) -> permission CASCADE",
  "role_permission(role_id) -> role CASCADE",
  "suggestion(table_id) -> file_table CASCADE",
  "suggestion_import(target_table_id) -> file_table CASCADE",
  "suggestion_import(version_id) -> file_version CASCADE",
  "upload(created_by) -> user SET NULL",
  "upload(file_id) -> file CASCADE",
  "upload(project_id,org_id) -> project CASCADE",
  "upload(version_id) -> file_version CASCADE",
  "user(org_id) -> organization RESTRICT",
  "user_role(role_id) -> role CASCADE",
  "user_role(user_id) -> user CASCADE",
  "project_validation_rules(project_id,org_id) -> project CASCADE",
  "project_validation_rules(updated_by) -> user SET NULL",
  "validation_run(project_id,org_id) -> project CASCADE",
  "validation_run(requested_by) -> user SET NULL",
  "validation_run(table_id) -> file_table CASCADE",
  "validation_seen_value(validation_id) -> validation_run CASCADE",
  "validation_violation(validation_id) -> validation_run CASCADE",
  "webhook(created_by) -> user SET NULL",
  "webhook(org_id) -> organization CASCADE",
  "webhook_delivery(webhook_id) -> webhook CASCADE",
];

describe("tables and keys", () => {
  it("has the seed's 14 tables and the added ones, with their primary key columns", async () => {
    const found = await rows<{ table_name: string; columns: string[] }>(sql`
      select c.conrelid::regclass::text as table_name,
             json_agg(a.attname::text order by k.ord) as columns
      from pg_constraint c
      cross join lateral unnest(c.conkey) with ordinality as k(attnum, ord)
      join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
      where c.contype = 'p' and c.connamespace = 'public'::regnamespace
      group by c.conrelid`);
    const keys = Object.fromEntries(found.map((row) => [row.table_name.replaceAll('"', ""), row.columns]));
    expect(keys).toEqual({ ...SEED_TABLE_KEYS, ...ADDED_TABLE_KEYS });
  });

  it("generates the single-column integer keys as identities (bigint for event_log)", async () => {
    const found = await rows<{ table_name: string; column_name: string; data_type: string; is_identity: string }>(sql`
      select table_name::text, column_name::text, data_type::text, is_identity::text
      from information_schema.columns
      where table_schema = 'public' and is_identity = 'YES'`);
    const identities = Object.fromEntries(found.map((row) => [row.table_name, `${row.column_name} ${row.data_type}`]));
    for (const [table, key] of Object.entries({ ...SEED_TABLE_KEYS, ...ADDED_TABLE_KEYS })) {
      // idempotency_key's key is the caller's; label_schema's is its project's (one schema per project);
      // suggestion_import's its version's (one import per llm_output version); project_validation_rules' its project's.
      if (key.length !== 1 || table === "idempotency_key" || table === "label_schema" || table === "webhook_dispatch_state"
        || table === "suggestion_import" || table === "project_validation_rules") continue;
      const big = table === "event_log" || table === "annotation_revision" || table === "webhook_delivery";
      expect(identities[table], table).toBe(`${key[0]} ${big ? "bigint" : "integer"}`);
    }
  });

  it("uses timestamp with time zone for every timestamp column", async () => {
    const found = await rows<{ column: string }>(sql`
      select table_name || '.' || column_name as column
      from information_schema.columns
      where table_schema = 'public' and data_type like 'timestamp%' and data_type <> 'timestamp with time zone'`);
    expect(found).toEqual([]);
  });
});

describe("enums", () => {
  it("have exactly the contract's values, in order", async () => {
    const found = await rows<{ name: string; labels: string[] }>(sql`
      select t.typname::text as name, json_agg(e.enumlabel::text order by e.enumsortorder) as labels
      from pg_type t join pg_enum e on e.enumtypid = t.oid
      where t.typnamespace = 'public'::regnamespace
      group by t.typname`);
    expect(Object.fromEntries(found.map((row) => [row.name, row.labels]))).toEqual(ENUMS);
  });
});

describe("foreign keys", () => {
  it("each has its deliberate ON DELETE rule", async () => {
    const found = await rows<{ fk: string }>(sql`
      select format('%s(%s) -> %s %s',
               c.conrelid::regclass::text,
               (select string_agg(a.attname, ',' order by k.ord)
                  from unnest(c.conkey) with ordinality as k(attnum, ord)
                  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum),
               c.confrelid::regclass::text,
               case c.confdeltype when 'a' then 'NO ACTION' when 'r' then 'RESTRICT' when 'c' then 'CASCADE'
                                  when 'n' then 'SET NULL' when 'd' then 'SET DEFAULT' end) as fk
      from pg_constraint c
      where c.contype = 'f' and c.connamespace = 'public'::regnamespace`);
    const fks = found.map((row) => row.fk.replaceAll('"', "")).sort();
    expect(fks).toEqual([...FOREIGN_KEYS].sort());
  });

  it("each is covered by an index whose leading columns are the key's columns", async () => {
    const uncovered = await rows<{ table_name: string; name: string }>(sql`
      select c.conrelid::regclass::text as table_name, c.conname::text as name
      from pg_constraint c
      where c.contype = 'f' and c.connamespace = 'public'::regnamespace
        and not exists (
          select 1 from pg_index i
          where i.indrelid = c.conrelid
            and (select array_agg(k order by k) from unnest((i.indkey::int2[])[0:cardinality(c.conkey) - 1]) as k)
              = (select array_agg(k order by k) from unnest(c.conkey) as k))`);
    expect(uncovered).toEqual([]);
  });
});

describe("indexes and checks", () => {
  it("makes (org_id, name) unique among live projects only", async () => {
    const [index] = await rows<{ is_unique: boolean; columns: string[]; predicate: string }>(sql`
      select i.indisunique as is_unique,
             (select json_agg(a.attname::text order by k.ord)
                from unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
                join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum) as columns,
             pg_get_expr(i.indpred, i.indrelid) as predicate
      from pg_index i
      where i.indexrelid = 'project_org_id_name_live_idx'::regclass`);
    expect(index).toEqual({ is_unique: true, columns: ["org_id", "name"], predicate: "(deleted_at IS NULL)" });

    const [definition] = await rows<{ indexdef: string }>(sql`
      select indexdef from pg_indexes where tablename = 'project' and indexname = 'project_org_id_name_live_idx'`);
    expect(definition?.indexdef).toMatch(/^CREATE UNIQUE INDEX .* \(org_id, name\) WHERE \(deleted_at IS NULL\)$/);
  });

  it("has the composite indexes the list queries use", async () => {
    const found = await rows<{ name: string; definition: string }>(sql`
      select indexname::text as name, indexdef as definition from pg_indexes where schemaname = 'public'`);
    const columnsOf = (name: string) => found.find((row) => row.name === name)?.definition.replace(/^.*USING btree /, "");
    expect(columnsOf("project_org_id_status_idx")).toBe("(org_id, status)");
    expect(columnsOf("annotation_job_project_id_status_idx")).toBe("(project_id, status)");
    expect(columnsOf("annotation_job_project_id_priority_idx")).toBe("(project_id, priority)");
    expect(columnsOf("event_log_entity_type_entity_id_idx")).toBe("(entity_type, entity_id, event_id)");
    expect(columnsOf("event_log_org_id_idx")).toBe("(org_id, event_id)");
    for (const name of ["project_created_at_idx", "project_updated_at_idx", "project_name_idx", "annotation_job_due_date_idx"]) {
      expect(columnsOf(name), name).toBeDefined();
    }
  });

  it("has the check constraints on sizes, counts, hours, ranges and dates", async () => {
    const found = await rows<{ name: string }>(sql`
      select conname::text as name from pg_constraint
      where contype = 'c' and connamespace = 'public'::regnamespace`);
    const names = found.map((row) => row.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "annotation_job_estimated_hours_positive",
        "annotation_job_row_start_non_negative",
        "annotation_job_row_range_ordered",
        "annotation_job_due_not_before_creation",
        "file_version_size_bytes_non_negative",
        "file_table_row_count_non_negative",
        "upload_size_bytes_non_negative",
        "export_log_row_count_non_negative",
        "export_log_size_bytes_non_negative",
        "project_completed_after_creation",
        "user_email_lower_case",
      ]),
    );
  });
});
