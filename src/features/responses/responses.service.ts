/**
 * Reading every response to a row, and a reviewer's decision of its final value. Both
 * are one round trip: the read is one query over the job's scope; the decision is the
 * save's pattern (annotations.service.ts): one statement that locks the job, checks the
 * caller, the row and the status, validates the answers against the label schema in the
 * same statement (label-schema/answer-guard.ts), writes, stores the row's consensus with
 * the new decision (consensus.ts) and audits.
 */
import { sql } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { capacity, checksCte, firstFailure, jobNotFound, jobScope, type Check, type JobScopeRow } from "../annotation-jobs/job-scope.ts";
import type { JobStatus } from "../annotation-jobs/job-status.ts";
import { assertMayReadResults, outOfRange } from "../annotations/annotations.service.ts";
import { answerChecks, answerColumns, labelSchemaJoin, learnFromSave, withCurrentSchema, type AnswerColumns, type AnswerPlan } from "../label-schema/answer-guard.ts";
import { lockJobFirst, questionsOf, rowResponses, storeConsensus } from "./consensus.ts";
import { readsAllResponses } from "./response-access.ts";

type Answers = Record<string, unknown>;

type DecisionRow = { job_id: number; row_index: number; data: Answers; version: number; set_by: number | null; updated_at: string };

function presentDecision(row: DecisionRow) {
  return { job_id: row.job_id, row_index: row.row_index, data: row.data, version: row.version, set_by: row.set_by, updated_at: isoTimestamp(row.updated_at) };
}

export type DecisionView = ReturnType<typeof presentDecision>;

type ResponsesRow = {
  status: JobStatus;
  row_start: number;
  row_end: number;
  reads_all: boolean;
  responses: { annotator_id: number; data: Answers; version: number; updated_at: string; submitted_at: string | null }[] | null;
  responses_count: number;
  final: Answers | null;
  agreed: boolean;
  decision: DecisionRow | null;
};

export async function listRowResponses(ctx: AuthenticatedContext, jobId: number, rowIndex: number) {
  const { principal } = ctx;
  const row = sql`${rowIndex}::integer`;
  const result = await ctx.db.execute(sql`with ${jobScope(ctx, jobId)}
    select scope.status, scope.row_start, scope.row_end, ${readsAllResponses(principal)} as reads_all,
      case when ${readsAllResponses(principal)} then (
        select jsonb_agg(jsonb_build_object('annotator_id', a.annotator_id, 'data', a.data, 'version', a.version,
            'updated_at', a.updated_at, 'submitted_at', js.submitted_at) order by a.annotator_id)
        from annotation a left join job_submission js on js.job_id = a.job_id and js.annotator_id = a.annotator_id
        where a.job_id = scope.job_id and a.row_index = ${row}) end as responses,
      coalesce(rc.responses_count, 0) as responses_count, rc.final, coalesce(rc.agreed, false) as agreed,
      case when ${readsAllResponses(principal)} then (
        select row_to_json(d) from (select rf.job_id, rf.row_index, rf.data, rf.version, rf.set_by, rf.updated_at::text as updated_at
          from row_final rf where rf.job_id = scope.job_id and rf.row_index = ${row}) d) end as decision
    from scope
    left join row_consensus rc on rc.job_id = scope.job_id and rc.row_index = ${row} and ${readsAllResponses(principal)}`);
  const found = result.rows[0] as ResponsesRow | undefined;
  if (!found) throw jobNotFound(jobId);
  assertMayReadResults(principal, jobId, found.status);
  if (!found.reads_all) {
    throw new ApiError(
      "forbidden",
      `Only the reviewers and qc of job ${jobId}, the project's pm and platform admins read every response; an annotator reads their own (GET …/annotation).`,
    );
  }
  if (rowIndex < found.row_start || rowIndex > found.row_end) throw outOfRange(jobId, rowIndex, found);
  return {
    row_index: rowIndex,
    responses: (found.responses ?? []).map((response) => ({
      ...response,
      updated_at: isoTimestamp(response.updated_at),
      submitted_at: isoTimestamp(response.submitted_at),
    })),
    responses_count: found.responses_count,
    final: found.final,
    agreed: found.agreed,
    decision: found.decision ? presentDecision(found.decision) : null,
  };
}

type DecideRow = JobScopeRow & AnswerColumns & Record<string, unknown> & { decided: DecisionRow | null };

export async function setRowFinal(ctx: AuthenticatedContext, jobId: number, rowIndex: number, data: Answers): Promise<DecisionView> {
  return withCurrentSchema(jobId, data, (plan) => decide(ctx, jobId, rowIndex, data, plan));
}

async function decide(ctx: AuthenticatedContext, jobId: number, rowIndex: number, data: Answers, plan: AnswerPlan): Promise<DecisionView> {
  const { principal } = ctx;
  const payload = sql`${JSON.stringify(data)}::jsonb`;
  const checks: Check<DecideRow>[] = [
    {
      name: "may_decide",
      holds: sql`(${capacity(principal, "reviewer", "review:write")} or ${capacity(principal, "manager", "review:write")})`,
      fail: () => new ApiError("forbidden", `Only a reviewer or qc assigned to job ${jobId}, the project's pm or a platform admin can decide a row's final value.`),
    },
    { name: "in_range", holds: sql`${rowIndex}::integer between scope.row_start and scope.row_end`, fail: (row) => outOfRange(jobId, rowIndex, row) },
    {
      name: "open",
      holds: sql`scope.status <> 'reviewed'`,
      fail: () => new ApiError("conflict", `Job ${jobId} is reviewed (approved); its rows' final values are delivered and can no longer change.`),
    },
    ...answerChecks<DecideRow>(plan, rowIndex, data, payload),
  ];
  const [, rows = []] = await runWrite(ctx, [
    lockJobFirst(ctx, jobId),
    sql`with ${jobScope(ctx, jobId, { lock: true, progress: false })},
      ${checksCte(checks, { columns: answerColumns(plan, rowIndex), from: labelSchemaJoin })},
      decided as (
        insert into row_final (job_id, row_index, data, set_by)
        select checks.job_id, ${rowIndex}::integer, ${payload}, ${principal.user_id}::integer from checks where checks.passed
        on conflict (job_id, row_index) do update
          set data = excluded.data, version = row_final.version + 1, set_by = excluded.set_by, updated_at = now()
        returning *
      ), consensus as (
        ${storeConsensus(sql`select decided.job_id, decided.row_index, ${rowResponses(sql`decided.job_id`, sql`decided.row_index`)} as responses,
          ${questionsOf(sql`checks.project_id`)} as questions, decided.data as decision from decided cross join checks`)}
      ), audited as (
        ${auditInsert(ctx, {
          action: "row_final.set",
          entity_type: "row_final",
          entity_id: sql`decided.job_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`checks.project_id`,
          after: sql`jsonb_build_object('job_id', decided.job_id, 'row_index', decided.row_index, 'version', decided.version, 'data', decided.data)`,
        }, sql`decided cross join checks`)}
      )
      select checks.*, (select row_to_json(d) from (
          select decided.job_id, decided.row_index, decided.data, decided.version, decided.set_by, decided.updated_at::text as updated_at
          from decided) d) as decided
      from checks`,
  ]);
  const row = rows[0] as DecideRow | undefined;
  if (!row) throw jobNotFound(jobId);
  learnFromSave(jobId, row);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  return presentDecision(row.decided!);
}
