/**
 * The statistics of a project in one statement (CTEs over its live jobs). Everything is
 * computed when read: the figures follow every save, verdict and decision at once, and
 * the statement's cost grows with the project's responses, which the ops budget of one
 * round trip per read allows (see README, "Statistics").
 *
 * Shared definitions:
 * - an answer is one question of one response whose value is not null (schema-less
 *   projects: every top-level key);
 * - two answers are the same when they are equal JSON, except `multi_label`, compared
 *   as sets (the consensus lists options in schema order, annotators in any order).
 */
import { sql, type SQL } from "drizzle-orm";

/** Whether answers `a` and `b` (jsonb) to a question of type `type` (text, null without a schema) are the same. */
function sameAnswer(type: SQL, a: SQL, b: SQL): SQL {
  return sql`(case when ${type} = 'multi_label' and jsonb_typeof(${a}) = 'array' and jsonb_typeof(${b}) = 'array'
    then (${a}) @> (${b}) and (${b}) @> (${a}) else (${a}) = (${b}) end)`;
}

/**
 * The CTEs `jobs`, `responses`, `answers`, `question_types` and `row_finals` for the
 * project in `target` (a CTE with `project_id`, and `caller_manages`: nothing is read for
 * a caller who may not see the figures).
 */
export function statsBase(): SQL {
  return sql`jobs as (
      select j.job_id, j.table_id, j.name, j.status, j.due_date, j.row_start, j.row_end
      from annotation_job j join target on j.project_id = target.project_id
      where j.deleted_at is null and target.caller_manages
    ), responses as (
      select a.job_id, a.row_index, a.annotator_id, a.data from annotation a join jobs on jobs.job_id = a.job_id
    ), answers as (
      select r.job_id, r.row_index, r.annotator_id, kv.key as question, kv.value
      from responses r cross join lateral jsonb_each(case when jsonb_typeof(r.data) = 'object' then r.data else '{}'::jsonb end) kv
      where jsonb_typeof(kv.value) <> 'null'
    ), question_types as (
      select s.q ->> 'name' as name, s.q ->> 'type' as type
      from label_schema ls join target on ls.project_id = target.project_id cross join lateral jsonb_array_elements(ls.questions) s(q)
    ), row_finals as (
      -- The stored consensus with the decision (responses/consensus.ts), of the rows with responses.
      select rc.job_id, rc.row_index, rc.final from row_consensus rc join jobs on jobs.job_id = rc.job_id where rc.responses_count > 0
    )`;
}

/**
 * Per annotator (json array): everyone assigned as annotator to a live job of the project or with a response in one.
 * Each figure is one grouped pass over the project's rows (no per-annotator subquery: those
 * rescanned the materialised responses and answers once per annotator), joined to the people by annotator.
 */
export function annotatorStats(): SQL {
  return sql`(select coalesce(json_agg(json_build_object(
      'user_id', people.annotator_id,
      'full_name', u.full_name,
      'rows_answered', coalesce(answered.row_count, 0),
      'jobs_submitted', coalesce(submitted.jobs, 0),
      'rows_submitted', coalesce(answered.submitted_rows, 0),
      'rows_reviewed', coalesce(answered.reviewed_rows, 0),
      'rows_rejected', coalesce(answered.rejected_rows, 0),
      'rejection_rate', case when coalesce(answered.reviewed_rows, 0) > 0 then answered.rejected_rows::float8 / answered.reviewed_rows end,
      'answers_compared', coalesce(agreement.compared, 0),
      'agreement_with_final', case when coalesce(agreement.compared, 0) > 0 then agreement.agreed::float8 / agreement.compared end,
      'rows_timed', coalesce(timing.row_count, 0),
      'median_seconds_per_row', timing.median_seconds
    ) order by people.annotator_id), '[]'::json)
    from (
      select r.annotator_id from responses r
      union select asg.user_id from assignment asg join jobs on jobs.job_id = asg.job_id where asg.role = 'annotator'
    ) people
    left join "user" u on u.user_id = people.annotator_id
    left join (
      -- job_submission and row_review are keyed by (job, annotator) and (job, row): at most one match per response.
      select r.annotator_id, count(*) as row_count,
        count(js.job_id) as submitted_rows,
        count(rv.job_id) as reviewed_rows,
        count(rv.job_id) filter (where rv.rejections > 0) as rejected_rows
      from responses r
      left join job_submission js on js.job_id = r.job_id and js.annotator_id = r.annotator_id
      left join row_review rv on rv.job_id = r.job_id and rv.row_index = r.row_index
      group by r.annotator_id
    ) answered on answered.annotator_id = people.annotator_id
    left join (
      select js.annotator_id, count(*) as jobs from job_submission js join jobs on jobs.job_id = js.job_id group by js.annotator_id
    ) submitted on submitted.annotator_id = people.annotator_id
    left join (
      select an.annotator_id, count(*) as compared,
        count(*) filter (where ${sameAnswer(sql`qt.type`, sql`an.value`, sql`f.final -> an.question`)}) as agreed
      from answers an
      join row_finals f on f.job_id = an.job_id and f.row_index = an.row_index
      left join question_types qt on qt.name = an.question
      where coalesce(jsonb_typeof(f.final -> an.question), 'null') <> 'null'
      group by an.annotator_id
    ) agreement on agreement.annotator_id = people.annotator_id
    left join (
      select per_row.annotator_id, count(*) as row_count,
        percentile_cont(0.5) within group (order by per_row.ms) / 1000.0 as median_seconds
      from (
        -- Grouped in the order of annotation_revision's (job_id, row_index, annotator_id, version) key, which serves the scan per job.
        select ar.annotator_id, sum(ar.lead_time_ms) as ms from annotation_revision ar join jobs on jobs.job_id = ar.job_id
        where ar.lead_time_ms is not null
        group by ar.job_id, ar.row_index, ar.annotator_id
      ) per_row
      group by per_row.annotator_id
    ) timing on timing.annotator_id = people.annotator_id)`;
}

/** Per agent and question (json array): how often a response took the agent's suggestion. */
export function agentStats(): SQL {
  return sql`(select coalesce(json_agg(json_build_object('agent', per_agent.agent, 'questions', per_agent.questions) order by per_agent.agent), '[]'::json)
    from (
      select per_question.agent, json_agg(json_build_object('question', per_question.question, 'responses', per_question.responses,
          'accepted', per_question.accepted, 'acceptance_rate', per_question.accepted::float8 / per_question.responses)
        order by per_question.question) as questions
      from (
        select s.agent, s.question, count(*) as responses,
          count(*) filter (where ${sameAnswer(sql`qt.type`, sql`an.value`, sql`s.value`)}) as accepted
        from answers an
        join jobs on jobs.job_id = an.job_id
        join suggestion s on s.table_id = jobs.table_id and s.row_index = an.row_index and s.question = an.question
        left join question_types qt on qt.name = an.question
        group by s.agent, s.question
      ) per_question
      group by per_question.agent
    ) per_agent)`;
}

/** Overdue jobs (json): due before today (UTC) and not yet reviewed; the count, and the 50 most overdue. */
export function overdueStats(): SQL {
  const overdue = sql`jobs.due_date < (now() at time zone 'UTC')::date and jobs.status <> 'reviewed'`;
  return sql`json_build_object(
    'count', (select count(*) from jobs where ${overdue}),
    'jobs', (select coalesce(json_agg(json_build_object('job_id', o.job_id, 'name', o.name, 'status', o.status,
        'due_date', o.due_date::text) order by o.due_date, o.job_id), '[]'::json)
      from (select jobs.* from jobs where ${overdue} order by jobs.due_date, jobs.job_id limit 50) o))`;
}

/** The rows' current verdicts (json) over the live jobs. */
export function verdictStats(): SQL {
  return sql`(select json_build_object(
      'rows_accepted', count(*) filter (where rv.verdict = 'accepted'),
      'rows_rejected', count(*) filter (where rv.verdict = 'rejected'))
    from row_review rv join jobs on jobs.job_id = rv.job_id)`;
}
