/**
 * A row's `final` value and whether its responses `agreed`, kept current rather than
 * computed on every read: the item list, the responses read and the export stream read
 * stored columns (a join, no per-row aggregation), and the statements that change them
 * recompute them in the same statement.
 *
 * The definition is one database function, `annotation_consensus(responses, questions,
 * decision)` (drizzle/0016_row_consensus.sql, where it is documented; README
 * "Consensus"), so that this file's writers and the migration's backfill share it. It is
 * PL/pgSQL (drizzle/0024_consensus_plpgsql.sql) so that a save does not plan its body.
 * Where it is stored:
 * - `row_consensus` (job, row): `responses_count`, `final` (with the reviewer's
 *   decision), `agreed`, over every response: what reviewers, qc, the pm, admins and the
 *   client read.
 * - `annotation.own_final` / `own_agreed`: one response's consensus on its own: what its
 *   annotator, who never sees another response, reads.
 * Who writes them, each in its own single statement:
 * - a save (annotations.service.ts): its response's own columns, and the row's consensus
 *   over the committed responses with the saved one in place of the caller's, through
 *   `row_consensus_after_save` (drizzle/0026_row_consensus_after_save.sql: the row's
 *   consensus is the response's own while it has no other response and no decision);
 * - a reviewer's `PUT …/final` (responses.service.ts): the row's consensus with the new
 *   decision;
 * - a label schema change (label-schema.service.ts): every row and response of the
 *   project, against the new questions (an additive change can still change a
 *   consensus: a question added for keys answered while the project had no schema).
 *
 * Concurrency: writers of one job take turns on the job's row lock, and take it in a
 * statement of their own ahead of the one that computes (`lockJobFirst`): under READ
 * COMMITTED a statement's snapshot is taken when it starts, so a statement that waited
 * for the lock inside itself would not see the response committed by the save it waited
 * for, and would store a consensus without it.
 */
import { sql, type SQL } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";
import { visibleJob } from "../annotation-jobs/job-scope.ts";
import { selectGuarded } from "../../db/credential-guard.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { schemaReadLock } from "../label-schema/answer-guard.ts";
import { readsAllResponses } from "./response-access.ts";

/** The project's label schema questions as jsonb, null when it has none (the function's "no schema"). */
export function questionsOf(projectId: SQL): SQL {
  return sql`(select ls.questions from label_schema ls where ls.project_id = ${projectId})`;
}

/** `annotation_consensus` as a lateral source of `responses_count`, `final`, `agreed`. */
export function consensusOf(responses: SQL, questions: SQL, decision: SQL): SQL {
  return sql`annotation_consensus(${responses}, ${questions}, ${decision})`;
}

/** The data of a row's committed responses as a jsonb array (empty without any). */
export function rowResponses(jobId: SQL, rowIndex: SQL, except?: SQL): SQL {
  return sql`coalesce((select jsonb_agg(cr.data order by cr.annotator_id) from annotation cr
    where cr.job_id = ${jobId} and cr.row_index = ${rowIndex}${except ? sql` and cr.annotator_id <> ${except}` : sql``}), '[]'::jsonb)`;
}

/** The reviewer's decision of a row (row_final.data), null without one. */
export function rowDecision(jobId: SQL, rowIndex: SQL): SQL {
  return sql`(select rf.data from row_final rf where rf.job_id = ${jobId} and rf.row_index = ${rowIndex})`;
}

/**
 * Over a save's `saved` CTE joined to `checks`: stores the saved response's row consensus
 * (the database function, see its migration), as a column to select from a CTE the
 * statement's final SELECT refers to (a SELECT in WITH runs only when read).
 */
export function rowConsensusAfterSave(): SQL {
  return sql`row_consensus_after_save(saved.job_id, saved.row_index, saved.annotator_id, saved.data, saved.own_final, saved.own_agreed,
    ${questionsOf(sql`checks.project_id`)})`;
}

/**
 * An INSERT … SELECT that stores the consensus of rows: `source` a query with columns
 * `job_id`, `row_index`, `responses` (jsonb array), `questions`, `decision`.
 */
export function storeConsensus(source: SQL): SQL {
  return sql`insert into row_consensus (job_id, row_index, responses_count, final, agreed)
    select src.job_id, src.row_index, c.responses_count, c.final, c.agreed
    from (${source}) src cross join lateral ${consensusOf(sql`src.responses`, sql`src.questions`, sql`src.decision`)} c
    on conflict (job_id, row_index) do update
      set responses_count = excluded.responses_count, final = excluded.final, agreed = excluded.agreed`;
}

/**
 * The batch statement a consensus writer sends before its own: the job's row lock, for a
 * job the caller sees (as the writer's `jobScope` takes it), so that the next statement
 * starts after every earlier writer of the job has committed and sees what it wrote;
 * then the project's label schema lock, shared (label-schema/answer-guard.ts: a save must
 * not commit beside a schema change). The caller's credential guard runs in it, before
 * the locks (db/credential-guard.ts), so the write is two statements, as it was before
 * the lock.
 */
export function lockJobFirst(ctx: AuthenticatedContext, jobId: number): SQL {
  return selectGuarded(ctx.principal, sql`select count(*)::int as locked, max(${schemaReadLock(sql`job.project_id`)}) as schema_locked
    from (${visibleJob(ctx, jobId, { lock: true })}) job`);
}

/**
 * The caller's view of a row's consensus over the `scope` CTE, as the columns
 * `responses_count`, `final`, `agreed`: from `rc` (row_consensus) for a caller who reads
 * every response, else from `own` (the caller's own annotation row, null without one).
 */
export function visibleConsensus(principal: Principal, rc: string, own: string): SQL {
  const all = readsAllResponses(principal);
  const [r, o] = [sql.raw(rc), sql.raw(own)];
  return sql`case when ${all} then coalesce(${r}.responses_count, 0) else (${o}.own_final is not null)::int end as responses_count,
    case when ${all} then ${r}.final else ${o}.own_final end as final,
    case when ${all} then coalesce(${r}.agreed, false) else coalesce(${o}.own_agreed, false) end as agreed`;
}
