/**
 * The validation queue's work for one message: check the run's table chunk by chunk
 * (VALIDATION_LIMITS.chunkRows rows by row_index), each chunk one set-based statement
 * over the stored rows that inserts the chunk's violations and advances the run's
 * `next_row` together, and only if `next_row` is still where the chunk starts. Exactly
 * once follows:
 * - of two deliveries on the same run, one claims each chunk and the other, finding
 *   next_row moved, stops (the claimer goes on);
 * - a crash after a commit loses nothing: the retried message resumes from next_row;
 * - violations are keyed (validation_id, row_index, column, rule), ON CONFLICT DO NOTHING.
 * A message works for `sliceMs`, then asks for a continuation message.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { auditInsert } from "../../lib/audit.ts";
import { systemActor, type SystemActor } from "../parsing/parse-job.service.ts";
import { ruleChecks } from "./rule-checks.ts";
import { ValidationRulesSchema, type ValidationRule } from "./validation-rules.ts";

export const VALIDATION_LIMITS = {
  /** Rows checked per statement. */
  chunkRows: 5_000,
  /** Wall time one message keeps checking chunks before handing the rest to a new message. */
  sliceMs: 60_000,
  /** Characters of an offending value kept with its violation. */
  valueChars: 1_000,
} as const;

export type ValidationOptions = {
  chunkRows: number;
  sliceMs: number;
  /** Test seam: fail right after a chunk's commit (a crash). */
  faults?: { afterCommit?(chunk: number): void };
};

export const DEFAULT_VALIDATION_OPTIONS: ValidationOptions = { chunkRows: VALIDATION_LIMITS.chunkRows, sliceMs: VALIDATION_LIMITS.sliceMs };

export type ValidationOutcome = "missing" | "finished" | "duplicate" | "continue" | "succeeded";

type RunState = {
  validation_id: number;
  org_id: number;
  project_id: number;
  table_id: number;
  status: string;
  next_row: number;
  total_rows: number;
  rules: ValidationRule[];
};

async function loadRun(db: Database, validationId: number): Promise<RunState | null> {
  const result = await db.execute(sql`
    select validation_id, org_id, project_id, table_id, status, next_row, total_rows, rules
    from validation_run where validation_id = ${validationId}`);
  const row = result.rows[0] as RunState | undefined;
  return row ? { ...row, rules: ValidationRulesSchema.parse(row.rules) } : null;
}

/** Checks rows [from, to) and advances the run to `to`, in one statement; false when another delivery had moved it. */
async function checkChunk(db: Database, run: RunState, from: number, to: number, actor: SystemActor): Promise<boolean> {
  const done = to >= run.total_rows;
  const { ctes, seenInsert } = ruleChecks(run.rules, run.validation_id);
  // The last chunk records no seen values (no chunk comes after it) and clears the earlier ones.
  const seen = done ? null : seenInsert(sql`claimed`);
  const result = await db.execute(sql`
    with chunk_rows as (
      select row_index, data from file_table_row
      where table_id = ${run.table_id} and row_index >= ${from} and row_index < ${to}
    ), ${ctes}, claimed as (
      update validation_run set next_row = ${to}, updated_at = now(),
        status = ${done ? "succeeded" : "running"}, finished_at = ${done ? sql`now()` : sql`null`},
        violation_count = violation_count + (select count(*)::int from checks)
      where validation_id = ${run.validation_id} and status in ('queued', 'running') and next_row = ${from}
      returning validation_id, violation_count
    ), inserted as (
      insert into validation_violation (validation_id, row_index, "column", rule, value)
      select claimed.validation_id, c.row_index, c."column", c.rule, left(c.value, ${VALIDATION_LIMITS.valueChars})
      from checks c, claimed
      on conflict do nothing
    )${seen ? sql`, seen as (${seen})` : sql``}${done ? sql`, cleared as (
      delete from validation_seen_value s using claimed where s.validation_id = claimed.validation_id
    ), audited as (
      ${auditInsert(actor, {
        action: "validation_run.finish",
        entity_type: "validation_run",
        entity_id: sql`claimed.validation_id`,
        org_id: run.org_id,
        project_id: run.project_id,
        after: sql`jsonb_build_object('status', 'succeeded', 'violation_count', claimed.violation_count)`,
      }, sql`claimed`)}
    )` : sql``}
    select count(*)::int as claimed from claimed`);
  return (result.rows[0] as { claimed: number }).claimed === 1;
}

export async function runValidation(
  db: Database,
  validationId: number,
  options: ValidationOptions = DEFAULT_VALIDATION_OPTIONS,
  messageId = "direct",
): Promise<ValidationOutcome> {
  const run = await loadRun(db, validationId);
  if (!run) return "missing";
  if (run.status === "succeeded" || run.status === "failed") return "finished";
  const actor = systemActor(messageId);
  const sliceEnds = Date.now() + options.sliceMs;
  for (let from = run.next_row, chunk = 1; ; chunk += 1) {
    const to = Math.min(from + options.chunkRows, run.total_rows);
    if (!(await checkChunk(db, run, from, to, actor))) return "duplicate";
    options.faults?.afterCommit?.(chunk);
    if (to >= run.total_rows) return "succeeded";
    if (Date.now() >= sliceEnds) return "continue";
    from = to;
  }
}

/** The dead-letter queue's work: the run failed for good (its message kept failing). */
export async function failValidation(db: Database, validationId: number, messageId: string): Promise<void> {
  const actor = systemActor(messageId);
  await db.execute(sql`
    with failed as (
      update validation_run set status = 'failed', error = 'The validation could not be completed; request it again.', updated_at = now(), finished_at = now()
      where validation_id = ${validationId} and status in ('queued', 'running')
      returning validation_id, org_id, project_id
    ), cleared as (
      delete from validation_seen_value s using failed where s.validation_id = failed.validation_id
    ), audited as (
      ${auditInsert(actor, {
        action: "validation_run.finish",
        entity_type: "validation_run",
        entity_id: sql`failed.validation_id`,
        org_id: sql`failed.org_id`,
        project_id: sql`failed.project_id`,
        after: sql`jsonb_build_object('status', 'failed')`,
      }, sql`failed`)}
    )
    select count(*)::int from failed`);
}
