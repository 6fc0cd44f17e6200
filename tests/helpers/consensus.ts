/**
 * Fixtures that insert responses directly (not through the API's save) store their
 * consensus the way the API's writers do (src/features/responses/consensus.ts): each
 * response's own, and its row's over every response and the reviewer's decision, both
 * through the database's one definition, `annotation_consensus`. The same statements
 * check, in tests, that what the writers stored equals a fresh computation.
 */
import { sql, type SQL } from "drizzle-orm";
import { testDb } from "./db.ts";

const db = testDb();

const questions = (job: SQL) =>
  sql`(select ls.questions from annotation_job qj join label_schema ls on ls.project_id = qj.project_id where qj.job_id = ${job})`;

const responses = (job: SQL, row: SQL) =>
  sql`coalesce((select jsonb_agg(x.data order by x.annotator_id) from annotation x where x.job_id = ${job} and x.row_index = ${row}), '[]'::jsonb)`;

const decision = (job: SQL, row: SQL) => sql`(select rf.data from row_final rf where rf.job_id = ${job} and rf.row_index = ${row})`;

/** A fresh computation of the consensus of job `jobId`'s rows that have responses or a decision, by row. */
export function freshConsensus(jobId: number): SQL {
  return sql`select k.job_id, k.row_index, c.responses_count, c.final, c.agreed
    from (select job_id, row_index from annotation where job_id = ${jobId} union select job_id, row_index from row_final where job_id = ${jobId}) k
    cross join lateral annotation_consensus(${responses(sql`k.job_id`, sql`k.row_index`)}, ${questions(sql`k.job_id`)},
      ${decision(sql`k.job_id`, sql`k.row_index`)}) c`;
}

/** Stores the consensus of job `jobId`'s responses and rows, after responses were inserted directly. */
export async function storeConsensus(jobId: number): Promise<void> {
  await db.execute(sql`update annotation a set (own_final, own_agreed) = (
      select c.final, c.agreed from annotation_consensus(jsonb_build_array(a.data), ${questions(sql`a.job_id`)}, null) c)
    where a.job_id = ${jobId}`);
  await db.execute(sql`insert into row_consensus (job_id, row_index, responses_count, final, agreed)
    select job_id, row_index, responses_count, final, agreed from (${freshConsensus(jobId)}) fresh
    on conflict (job_id, row_index) do update
      set responses_count = excluded.responses_count, final = excluded.final, agreed = excluded.agreed`);
}
