import { sql, type SQL } from "drizzle-orm";
import { projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { staleVersion, versionFromIfMatch } from "../../lib/etag.ts";
import { ApiError } from "../../lib/errors.ts";
import { INT4_MAX } from "../../lib/input-bounds.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import { managesProject } from "../annotation-jobs/job-scope.ts";
import { consensusOf, rowDecision, rowResponses } from "../responses/consensus.ts";
import { rememberSchema, schemaWriteLock } from "./answer-guard.ts";
import type { Question } from "./questions.ts";

type SchemaRow = { project_id: number; schema_version: number; questions: Question[]; updated_at: string | null };

function presentSchema(row: SchemaRow) {
  return {
    project_id: row.project_id,
    schema_version: row.schema_version,
    questions: row.questions,
    updated_at: row.updated_at === null ? null : isoTimestamp(row.updated_at),
  };
}

export type LabelSchemaView = ReturnType<typeof presentSchema>;

/** The ETag names the project as well as the version, so one project's tag never satisfies another's If-Match. */
export function schemaVersionTag(schema: { project_id: number; schema_version: number }): string {
  return `label_schema:${schema.project_id}:${schema.schema_version}`;
}

/**
 * The version an If-Match asks for: null without one; -1 (matches nothing: 412 once
 * access is settled) for a tag of another project or not ours. Version 0 is the project
 * without a schema, so `If-Match` with the tag of that GET creates a schema only if
 * nobody else has in the meantime.
 */
export function expectedSchemaVersion(header: string | undefined, projectId: number): number | null {
  let tag: string | null;
  try {
    tag = versionFromIfMatch(header);
  } catch (error) {
    if (error instanceof ApiError && error.code === "validation_failed") throw error;
    return -1;
  }
  if (tag === null) return null;
  const match = /^label_schema:(\d+):(\d+)$/.exec(tag);
  if (!match || Number(match[1]) !== projectId) return -1;
  const version = Number(match[2]);
  return version <= INT4_MAX ? version : -1;
}

function notFound(projectId: number) {
  return new ApiError("not_found", `Project ${projectId} does not exist.`);
}

/** The live project as the caller may see it, with its schema (version 0 and no questions without one). */
function visibleSchema(ctx: AuthenticatedContext, projectId: number): SQL {
  return sql`select p.project_id, p.org_id, coalesce(ls.schema_version, 0) as schema_version,
      coalesce(ls.questions, '[]'::jsonb) as questions, ls.updated_at::text as updated_at
    from project p left join label_schema ls on ls.project_id = p.project_id
    where p.project_id = ${projectId}::integer and p.deleted_at is null and ${projectVisible(ctx.principal, "p")}`;
}

/** Whoever sees the project reads its schema (annotators need it to answer). One query. */
export async function getLabelSchema(ctx: AuthenticatedContext, projectId: number): Promise<LabelSchemaView> {
  const result = await ctx.db.execute(visibleSchema(ctx, projectId));
  const row = result.rows[0] as SchemaRow | undefined;
  if (!row) throw notFound(projectId);
  rememberSchema(row.project_id, { version: row.schema_version, questions: row.questions });
  return presentSchema(row);
}

/**
 * The first question (in the current schema's order, then the new one's) that the new
 * questions do not keep additively, with why; null when the change is additive. Kept
 * means: the same name, the same definition but for `title`, and the old options as a
 * prefix of the new ones (options may only be appended). New questions must be optional.
 */
function firstNonAdditive(current: SQL, next: SQL): SQL {
  const oldOptions = sql`coalesce(o.q -> 'options', '[]'::jsonb)`;
  return sql`coalesce(
    (select jsonb_build_object('name', o.q ->> 'name', 'reason', case
          when n.q is null then 'removed'
          when (o.q - 'title' - 'options') <> (n.q - 'title' - 'options') then 'changed'
          else 'options' end)
      from jsonb_array_elements(${current}) with ordinality o(q, position)
      left join lateral (select e.q from jsonb_array_elements(${next}) e(q) where e.q ->> 'name' = o.q ->> 'name') n on true
      where n.q is null
        or (o.q - 'title' - 'options') <> (n.q - 'title' - 'options')
        or ${oldOptions} <> coalesce((select jsonb_agg(x.option order by x.position) from jsonb_array_elements(n.q -> 'options')
          with ordinality x(option, position) where x.position <= jsonb_array_length(${oldOptions})), '[]'::jsonb)
      order by o.position limit 1),
    (select jsonb_build_object('name', e.q ->> 'name', 'reason', 'required')
      from jsonb_array_elements(${next}) with ordinality e(q, position)
      where (e.q ->> 'required')::boolean
        and not exists (select 1 from jsonb_array_elements(${current}) c(q) where c.q ->> 'name' = e.q ->> 'name')
      order by e.position limit 1))`;
}

const NON_ADDITIVE: Record<string, (name: string) => string> = {
  removed: (name) => `question "${name}" would be removed`,
  changed: (name) => `question "${name}" would change (only its title may change)`,
  options: (name) => `the options of question "${name}" would change (existing options must stay, in order; new ones may only be appended)`,
  required: (name) => `new question "${name}" is required (only optional questions may be added)`,
};

type PutRow = SchemaRow & {
  may_write: boolean;
  version_ok: boolean;
  violation: { name: string; reason: string } | null;
  saved: SchemaRow | null;
};

/** The questions without their titles: what a consensus depends on. */
const untitled = (questions: SQL) => sql`(select jsonb_agg(q - 'title' order by position) from jsonb_array_elements(${questions}) with ordinality e(q, position))`;

/**
 * CTEs over `checks` and `saved`: when the new version changes more than titles, the
 * stored consensus of every response and row of the project's jobs, recomputed against
 * the new questions (responses/consensus.ts). An additive change leaves answers given
 * under the old schema as they were, yet can still change a consensus: the first schema
 * of a project with schemaless responses, or a question added under a key such a
 * response used. Rare, and proportional to the project's answered rows.
 */
function recomputeConsensus(): SQL {
  const affected = sql`from saved cross join checks join annotation_job j on j.project_id = saved.project_id
    where (checks.schema_version = 0 or ${untitled(sql`checks.questions`)} is distinct from ${untitled(sql`saved.questions`)})`;
  return sql`own_recomputed as (
      update annotation a set (own_final, own_agreed) = (
        select c.final, c.agreed from ${consensusOf(sql`jsonb_build_array(a.data)`, sql`saved.questions`, sql`null`)} c)
      ${affected} and a.job_id = j.job_id
    ), rows_recomputed as (
      update row_consensus rc set (responses_count, final, agreed) = (
        select c.responses_count, c.final, c.agreed
        from ${consensusOf(rowResponses(sql`rc.job_id`, sql`rc.row_index`), sql`saved.questions`, rowDecision(sql`rc.job_id`, sql`rc.row_index`))} c)
      ${affected} and rc.job_id = j.job_id
    )`;
}

/**
 * Two statements, one batch (one round trip). The first takes the project's schema lock
 * exclusively (answer-guard.ts), so the second, whose snapshot is taken after it, sees
 * every save that held the lock: whether responses exist is decided on committed facts.
 * The second checks access, If-Match and the additive rule against the current schema,
 * writes a new version only when the questions differ, recomputes the stored consensus
 * when the change can alter it (every writer of it holds the lock, shared), and audits
 * the change.
 */
export async function putLabelSchema(
  ctx: AuthenticatedContext,
  projectId: number,
  questions: Question[],
  expected: number | null,
): Promise<LabelSchemaView> {
  const { principal } = ctx;
  const next = sql`${JSON.stringify(questions)}::jsonb`;
  const mayWrite = can(principal, "project:update") ? managesProject(principal, "p") : sql`false`;
  const [, rows = []] = await runWrite(ctx, [
    schemaWriteLock(projectId),
    sql`with target as (
        select p.project_id, p.org_id, ${mayWrite} as may_write,
          coalesce(ls.schema_version, 0) as schema_version, coalesce(ls.questions, '[]'::jsonb) as questions,
          ls.updated_at::text as updated_at
        from project p left join label_schema ls on ls.project_id = p.project_id
        where p.project_id = ${projectId}::integer and p.deleted_at is null and ${projectVisible(principal, "p")}
      ), checks as (
        select target.*,
          ${expected === null ? sql`true` : sql`target.schema_version = ${expected}::integer`} as version_ok,
          target.questions <> ${next} as changed,
          -- A reviewer's final values (row_final) answer the schema too.
          case when exists (select 1 from annotation a join annotation_job j on j.job_id = a.job_id where j.project_id = target.project_id)
              or exists (select 1 from row_final rf join annotation_job j on j.job_id = rf.job_id where j.project_id = target.project_id)
            then ${firstNonAdditive(sql`target.questions`, next)} end as violation
        from target
      ), saved as (
        insert into label_schema (project_id, schema_version, questions, updated_by)
        select checks.project_id, checks.schema_version + 1, ${next}, ${principal.user_id}::integer
        from checks where checks.may_write and checks.version_ok and checks.changed and checks.violation is null
        on conflict (project_id) do update
          set schema_version = label_schema.schema_version + 1, questions = excluded.questions,
            updated_by = excluded.updated_by, updated_at = now()
        returning project_id, schema_version, questions, updated_at::text as updated_at
      ), ${recomputeConsensus()}, audited as (
        ${auditInsert(ctx, {
          action: "label_schema.update",
          entity_type: "label_schema",
          entity_id: sql`saved.project_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`saved.project_id`,
          before: sql`jsonb_build_object('schema_version', checks.schema_version, 'questions', checks.questions)`,
          after: sql`jsonb_build_object('schema_version', saved.schema_version, 'questions', saved.questions)`,
        }, sql`saved cross join checks`)}
      )
      select checks.*, (select row_to_json(saved) from saved) as saved from checks`,
  ]);
  const row = rows[0] as PutRow | undefined;
  if (!row) throw notFound(projectId);
  if (!row.may_write) {
    throw new ApiError("forbidden", `Only the project's pm or a platform admin can change project ${projectId}'s label schema.`);
  }
  if (!row.version_ok) throw staleVersion();
  if (row.violation) {
    const reason = NON_ADDITIVE[row.violation.reason] ?? NON_ADDITIVE.changed!;
    throw new ApiError(
      "conflict",
      `Project ${projectId} already has annotations, so its label schema may only change additively (new optional questions, ` +
        `options appended, titles): ${reason(row.violation.name)}.`,
    );
  }
  const current = row.saved ?? row;
  rememberSchema(projectId, { version: current.schema_version, questions: current.questions });
  return presentSchema({ ...current, project_id: projectId });
}
