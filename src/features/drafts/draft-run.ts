/**
 * The draft queue's work for one message: a plain function (the consumer and the tests
 * call it alike). A run proceeds in batches of rows from `next_row`: read the batch (one
 * round trip, with the label schemas), ask the model, validate its answers, then commit
 * the valid ones as suggestions (agent = the model), the invalid ones on the run, and the
 * advanced `next_row` in one statement conditional on `next_row` being where this batch
 * started. So at-least-once delivery is exactly once: a redelivered or duplicate message
 * resumes where the run stands (rows already done are never sent to the model again),
 * and of two deliveries racing on a batch only one commits it.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import type { Question } from "../label-schema/questions.ts";
import { auditInsert } from "../../lib/audit.ts";
import type { Logger } from "../../lib/logger.ts";
import type { DraftMessage } from "../../queues/messages.ts";
import { checkSuggestions, type ProjectSchema } from "../suggestions/table-schemas.ts";
import { chatCompletion, DEFAULT_CALL_OPTIONS, type CallOptions, type LlmSettings } from "./chat-completions.ts";
import { describeQuestion, responseFormat } from "./response-format.ts";

export const MAX_RECORDED_INVALID = 1000;

export type DraftDependencies = {
  db: Database;
  queue: Queue<DraftMessage>;
  logger: Logger;
  llm: LlmSettings | null;
  batchRows: number;
};

export type DraftOptions = {
  /** Batches one message works before it hands the rest to a new message. */
  batchesPerMessage: number;
  call: CallOptions;
  /** Test seam: fail right after a batch's commit (a crash). */
  afterCommit?: (batch: number) => void;
};

export const DEFAULT_DRAFT_OPTIONS: DraftOptions = { batchesPerMessage: 20, call: DEFAULT_CALL_OPTIONS };

export type DraftOutcome = "missing" | "finished" | "duplicate" | "handed-off" | "succeeded" | "failed";

type DraftState = {
  draft_id: number;
  table_id: number;
  org_id: number;
  project_id: number;
  status: string;
  questions: string[];
  instructions: string | null;
  model: string;
  row_end: number;
  next_row: number;
  schemas: ProjectSchema[];
  rows: { row_index: number; data: Record<string, unknown> }[] | null;
};

type Invalid = { row_index: number; question: string | null; message: string };
type Answer = { row_index: number; question: string; value: unknown };

async function loadBatch(db: Database, draftId: number, batchRows: number): Promise<DraftState | null> {
  const result = await db.execute(sql`
    select d.draft_id, d.table_id, d.org_id, d.project_id, d.status, d.questions, d.instructions, d.model, d.row_end, d.next_row,
      coalesce((
        select jsonb_agg(jsonb_build_object('project_id', ls.project_id, 'version', ls.schema_version, 'questions', ls.questions))
        from label_schema ls
        where ls.project_id in (
          select f.project_id from file_table t join file_version v on v.version_id = t.version_id join file f on f.file_id = v.file_id
          where t.table_id = d.table_id
          union select j.project_id from annotation_job j where j.table_id = d.table_id and j.deleted_at is null)
      ), '[]'::jsonb) as schemas,
      (select jsonb_agg(jsonb_build_object('row_index', r.row_index, 'data', r.data) order by r.row_index)
        from file_table_row r
        where r.table_id = d.table_id and r.row_index between d.next_row and least(d.row_end, d.next_row + ${batchRows - 1}::integer)) as rows
    from draft_run d where d.draft_id = ${draftId}::integer`);
  return (result.rows[0] as DraftState | undefined) ?? null;
}

/** Each question's definition for the prompt and response format: the first schema's that has it. */
function definitions(state: DraftState): Question[] {
  return state.questions.flatMap((name) => {
    for (const schema of state.schemas) {
      const question = schema.questions.find((candidate) => candidate.name === name);
      if (question) return [question];
    }
    return [];
  });
}

function prompt(state: DraftState, questions: Question[], rows: NonNullable<DraftState["rows"]>) {
  const system = "You pre-annotate rows of a dataset. For every row given, answer every question, following the JSON schema of the response " +
    "exactly: {\"rows\": [{\"row_index\": <the row's index>, <question name>: <answer>, …}]}. Answer only with that JSON.";
  const user = [
    state.instructions ? `Instructions: ${state.instructions}` : null,
    `Questions:\n${questions.map(describeQuestion).join("\n")}`,
    `Rows (JSON Lines):\n${rows.map((row) => JSON.stringify(row)).join("\n")}`,
  ].filter(Boolean).join("\n\n");
  return { messages: [{ role: "system" as const, content: system }, { role: "user" as const, content: user }], response_format: responseFormat(questions) };
}

/** The model's answer split into valid answers and invalid ones, per row and question. */
function judge(state: DraftState, rows: NonNullable<DraftState["rows"]>, answer: unknown): { valid: Answer[]; invalid: Invalid[] } {
  const valid: Answer[] = [];
  const invalid: Invalid[] = [];
  const answered = new Map<number, Record<string, unknown>>();
  const listed = (answer as { rows?: unknown } | null)?.rows;
  if (answer === null || !Array.isArray(listed)) {
    return { valid, invalid: rows.map((row) => ({ row_index: row.row_index, question: null, message: "the model's answer was not the JSON asked for" })) };
  }
  for (const item of listed) {
    if (typeof item === "object" && item !== null && typeof (item as { row_index?: unknown }).row_index === "number") {
      answered.set((item as { row_index: number }).row_index, item as Record<string, unknown>);
    }
  }
  for (const row of rows) {
    const given = answered.get(row.row_index);
    if (!given) {
      invalid.push({ row_index: row.row_index, question: null, message: "the model gave no answer for this row" });
      continue;
    }
    for (const question of state.questions) {
      const value = given[question] ?? null;
      const check = checkSuggestions(state.schemas, [{ at: "answer", row_index: row.row_index, question, value }]);
      const spanMiss = check.spans.find((span) => {
        const cell = row.data[span.field];
        return typeof cell !== "string" || cell.length < span.end;
      });
      if (check.errors.length > 0) invalid.push({ row_index: row.row_index, question, message: check.errors.map((error) => error.message).join("; ") });
      else if (spanMiss) invalid.push({ row_index: row.row_index, question, message: `a span ends at ${spanMiss.end}, beyond the text of column "${spanMiss.field}"` });
      else valid.push({ row_index: row.row_index, question, value });
    }
  }
  return { valid, invalid };
}

/** Commits one batch if the run still stands at `from`; true when this call did. */
async function commitBatch(db: Database, state: DraftState, from: number, to: number, judged: { valid: Answer[]; invalid: Invalid[] }, actorId: string): Promise<boolean> {
  const result = await db.execute(sql`
    with claimed as (
      update draft_run d set next_row = ${to + 1}::integer, done = d.done + ${to - from + 1}::integer,
        status = case when ${to}::integer >= d.row_end then 'succeeded' else 'running' end,
        invalid_count = d.invalid_count + ${judged.invalid.length}::integer,
        invalid = d.invalid || coalesce((
          select jsonb_agg(e.value order by e.ordinality) from jsonb_array_elements(${JSON.stringify(judged.invalid)}::jsonb) with ordinality e
          where e.ordinality <= ${MAX_RECORDED_INVALID} - jsonb_array_length(d.invalid)), '[]'::jsonb),
        updated_at = now()
      where d.draft_id = ${state.draft_id}::integer and d.next_row = ${from}::integer and d.status in ('queued', 'running')
      returning d.draft_id, d.status, d.done, d.total, d.table_id, d.org_id, d.project_id
    ), upserted as (
      insert into suggestion (table_id, row_index, question, agent, value)
      select claimed.table_id, a.row_index, a.question, ${state.model}::text, a.value
      from claimed cross join jsonb_to_recordset(${JSON.stringify(judged.valid)}::jsonb) as a(row_index integer, question text, value jsonb)
      on conflict (table_id, row_index, question, agent) do update set value = excluded.value, score = null, updated_at = now()
    ), audited as (
      ${auditInsert({ principal: null, requestId: actorId }, {
        action: "draft_run.finish",
        entity_type: "draft_run",
        entity_id: sql`claimed.draft_id`,
        org_id: sql`claimed.org_id`,
        project_id: sql`claimed.project_id`,
        after: sql`jsonb_build_object('status', claimed.status, 'done', claimed.done, 'total', claimed.total)`,
      }, sql`claimed where claimed.status = 'succeeded'`)}
    )
    select count(*)::integer as claimed from claimed`);
  return (result.rows[0] as { claimed: number }).claimed === 1;
}

/** Ends the run as failed with a readable error (unless it already ended). */
export async function failDraft(db: Database, draftId: number, message: string, requestId: string): Promise<boolean> {
  const result = await db.execute(sql`
    with failed as (
      update draft_run set status = 'failed', error = ${message}, updated_at = now()
      where draft_id = ${draftId}::integer and status in ('queued', 'running')
      returning draft_id, org_id, project_id, done, total
    ), audited as (
      ${auditInsert({ principal: null, requestId }, {
        action: "draft_run.fail",
        entity_type: "draft_run",
        entity_id: sql`failed.draft_id`,
        org_id: sql`failed.org_id`,
        project_id: sql`failed.project_id`,
        after: sql`jsonb_build_object('status', 'failed', 'error', ${message}::text, 'done', failed.done, 'total', failed.total)`,
      }, sql`failed`)}
    )
    select count(*)::integer as failed from failed`);
  return (result.rows[0] as { failed: number }).failed === 1;
}

export async function runDraftMessage(body: DraftMessage, deps: DraftDependencies, options: DraftOptions = DEFAULT_DRAFT_OPTIONS, messageId = "direct"): Promise<DraftOutcome> {
  const requestId = `queue:${messageId}`;
  for (let batch = 1; ; batch++) {
    const state = await loadBatch(deps.db, body.draft_id, deps.batchRows);
    if (!state) return "missing";
    if (state.status === "succeeded" || state.status === "failed") return "finished";
    if (!deps.llm) {
      await failDraft(deps.db, state.draft_id, "LLM_BASE_URL is not set: drafting by a model is not configured.", requestId);
      return "failed";
    }
    if (batch > options.batchesPerMessage) {
      await deps.queue.send({ kind: "draft", draft_id: state.draft_id }, { contentType: "json" });
      return "handed-off";
    }
    const from = state.next_row;
    const to = Math.min(state.row_end, from + deps.batchRows - 1);
    const rows = state.rows ?? [];
    const questions = definitions(state);
    // A question removed from every schema since the run started cannot be drafted: each of its answers is invalid.
    const answer = rows.length === 0 ? { rows: [] } : await chatCompletion({ ...deps.llm, model: state.model }, prompt(state, questions, rows), options.call);
    const judged = judge(state, rows, answer);
    if (!(await commitBatch(deps.db, state, from, to, judged, requestId))) return "duplicate";
    options.afterCommit?.(batch);
    if (to >= state.row_end) return "succeeded";
  }
}
