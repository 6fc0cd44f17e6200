/**
 * Agreement figures of a project (or one of its jobs): one query that checks access,
 * reads the label schema and computes every figure (agreement.sql.ts), then explains a
 * refusal from the access columns it returned.
 *
 * Who reads them: whoever reads every response of a job (responses/response-access.ts),
 * since the figures are made of those responses. The project's pm and platform admins
 * over every job; a reviewer or qc over the jobs they hold that assignment on; a client
 * organization over its jobs once reviewed (approved), as with the responses
 * themselves. An annotator reads none (403): agreement with the others would reveal
 * their answers. With `job_id` the job must be visible in the project (else 404) and
 * readable in full (else 403).
 */
import { sql, type SQL } from "drizzle-orm";
import { jobVisible, projectVisible } from "../../lib/access.ts";
import { ApiError } from "../../lib/errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { can } from "../auth/principal.ts";
import { capacityColumns, managesProject } from "../annotation-jobs/job-scope.ts";
import { readsAllResponses } from "../responses/response-access.ts";
import { agreementStatement } from "./agreement.sql.ts";

/** The question types that have an agreement figure, and the metric of each (README). */
export const AGREEMENT_TYPES = ["label", "multi_label", "rating", "number"] as const;

const AGREEMENT_WORK_MEM = "64MB";

export type QuestionFigures = {
  name: string;
  type: (typeof AGREEMENT_TYPES)[number];
  option: string | null;
  raters: number;
  rows: number;
  percent_agreement: number | null;
  krippendorff_alpha: number | null;
  fleiss_kappa: number | null;
  cohen_kappa: number | null;
};

export type PairFigures = { question: string; option: string | null; annotator_a: number; annotator_b: number; rows: number; cohen_kappa: number | null };

type AgreementRow = {
  project_found: boolean;
  schema_questions: { name: string; type: string }[] | null;
  caller_manages: boolean;
  jobs_visible: number;
  jobs_readable: number;
  questions: QuestionFigures[];
  pairs: PairFigures[];
};

export type AgreementQuery = { job_id?: number | undefined; question?: string | undefined };

/** The CTEs `proj`, `job_access` (visible jobs with the caller's capacities, alias-compatible with `scope`) and `readable`. */
function accessScope(ctx: AuthenticatedContext, projectId: number, jobId: number | null): SQL {
  const { principal } = ctx;
  // A client reads results only once the job is reviewed (annotations.service.ts, assertMayReadResults).
  const delivered = principal.org_kind === "client" ? sql`scope.status = 'reviewed'` : sql`true`;
  return sql`proj as (
      select p.project_id, p.our_pm_id, coalesce(ls.questions, '[]'::jsonb) as questions, ${managesProject(principal, "p")} as caller_manages
      from project p left join label_schema ls on ls.project_id = p.project_id
      where p.project_id = ${projectId}::integer and p.deleted_at is null and ${projectVisible(principal, "p")}
    ), job_access as (
      select j.job_id, j.status, ${capacityColumns(principal, "j", "p")}
      from annotation_job j join proj p on p.project_id = j.project_id
      where j.deleted_at is null and ${jobVisible(principal, "j")} ${jobId === null ? sql`` : sql`and j.job_id = ${jobId}::integer`}
    ), readable as (
      select scope.job_id from job_access scope where ${readsAllResponses(principal)} and ${delivered}
    )`;
}

const ACCESS_COLUMNS = sql`exists (select 1 from proj) as project_found, (select questions from proj) as schema_questions,
  coalesce((select caller_manages from proj), false) as caller_manages,
  (select count(*) from job_access)::int as jobs_visible, (select count(*) from readable)::int as jobs_readable`;

function refusal(ctx: AuthenticatedContext, projectId: number, jobId: number | null, row: AgreementRow): ApiError | null {
  if (!row.project_found) return new ApiError("not_found", `Project ${projectId} does not exist.`);
  if (jobId !== null && row.jobs_visible === 0) return new ApiError("not_found", `Annotation job ${jobId} does not exist in project ${projectId}.`);
  if (row.jobs_readable > 0) return null;
  if (ctx.principal.org_kind === "client") {
    // The project's figures over no reviewed job are simply empty; a named job not yet reviewed is refused, as its responses are.
    return jobId === null ? null : new ApiError("forbidden", `The results of job ${jobId} are available to your organization once it is reviewed (approved).`);
  }
  if (jobId === null && row.caller_manages) return null;
  return new ApiError(
    "forbidden",
    "Agreement is computed from every annotator's responses: it is for the jobs' reviewers and qc, the project's pm and platform admins.",
  );
}

function unknownQuestion(question: string, row: AgreementRow): ApiError | null {
  const found = (row.schema_questions ?? []).find((candidate) => candidate.name === question);
  if (found && (AGREEMENT_TYPES as readonly string[]).includes(found.type)) return null;
  const message = found
    ? `question "${question}" is of type ${found.type}; agreement is computed for ${AGREEMENT_TYPES.join(", ")} questions`
    : `the project's label schema has no question "${question}"`;
  return new ApiError("validation_failed", `Unknown question: ${message}.`, { errors: [{ path: "query.question", message }] });
}

export async function getAgreement(ctx: AuthenticatedContext, projectId: number, query: AgreementQuery) {
  if (!can(ctx.principal, "annotation:read")) {
    throw new ApiError("forbidden", "Your role does not allow reading annotations (annotation:read).");
  }
  const jobId = query.job_id ?? null;
  const question = query.question ?? null;
  // One batch, one round trip: the statement hashes and joins every response of the
  // project (300,000 values and as many pairs for 100,000 rows of three annotators), which
  // at the default work_mem (4 MB) spills to disk; the setting lasts only for this
  // transaction (set_config's is_local).
  const [, result] = await ctx.db.batch([
    ctx.db.execute(sql`select set_config('work_mem', ${AGREEMENT_WORK_MEM}, true)`),
    ctx.db.execute(agreementStatement(accessScope(ctx, projectId, jobId), ACCESS_COLUMNS, question)),
  ]);
  const row = result.rows[0] as AgreementRow;
  const refused = refusal(ctx, projectId, jobId, row) ?? (question === null ? null : unknownQuestion(question, row));
  if (refused) throw refused;
  return { project_id: projectId, job_id: jobId, questions: row.questions, pairs: row.pairs };
}
