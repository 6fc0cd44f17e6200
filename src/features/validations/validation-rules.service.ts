/**
 * A project's validation rules: read with project:read, replaced as a whole with
 * project:update (PUT), each one statement with its access check and, for PUT, its
 * event_log row. PostgreSQL checks every pattern in the same statement, so a pattern its
 * regular-expression engine rejects is refused (422) before any run could fail on it.
 */
import { sql } from "drizzle-orm";
import { projectVisible } from "../../lib/access.ts";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { postgresErrorOf } from "../../lib/postgres-errors.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import type { ValidationRule } from "./validation-rules.ts";

export type ValidationRulesView = { project_id: number; rules: ValidationRule[]; updated_at: string | null };

/** PostgreSQL's invalid_regular_expression. */
const INVALID_REGEX = "2201B";

const notFound = (projectId: number) => new ApiError("not_found", `Project ${projectId} does not exist.`);

type RulesRow = { project_id: number; rules: ValidationRule[] | null; updated_at: string | null };

function present(row: RulesRow): ValidationRulesView {
  return { project_id: row.project_id, rules: row.rules ?? [], updated_at: row.updated_at ? new Date(row.updated_at).toISOString() : null };
}

export async function getValidationRules(ctx: AuthenticatedContext, projectId: number): Promise<ValidationRulesView> {
  const result = await ctx.db.execute(sql`
    select p.project_id, r.rules, r.updated_at
    from project p left join project_validation_rules r on r.project_id = p.project_id
    where p.project_id = ${projectId} and p.deleted_at is null and ${projectVisible(ctx.principal, "p")}`);
  const row = result.rows[0] as RulesRow | undefined;
  if (!row) throw notFound(projectId);
  if (!can(ctx.principal, "project:read")) throw new ApiError("forbidden", "Your role does not allow this (project:read is required).");
  return present(row);
}

export async function putValidationRules(ctx: AuthenticatedContext, projectId: number, rules: ValidationRule[]): Promise<ValidationRulesView> {
  const mayUpdate = can(ctx.principal, "project:update");
  const patterns = rules.flatMap((rule) => (rule.rule === "pattern" ? [rule.pattern] : []));
  let rows;
  try {
    [rows] = await runWrite(ctx, [
      sql`with target as (
          select p.project_id, p.org_id, r.rules as before_rules
          from project p left join project_validation_rules r on r.project_id = p.project_id
          where p.project_id = ${projectId} and p.deleted_at is null and ${projectVisible(ctx.principal, "p")}
        ), patterns_compile as (
          select bool_and(('' ~ pattern) is not null) as ok from jsonb_array_elements_text(${JSON.stringify(patterns)}::jsonb) as pattern
        ), saved as (
          insert into project_validation_rules (project_id, org_id, rules, updated_by)
          select target.project_id, target.org_id, ${JSON.stringify(rules)}::jsonb, ${ctx.principal.user_id}::int
          from target, patterns_compile where ${mayUpdate} and patterns_compile.ok is not false
          on conflict (project_id) do update set rules = excluded.rules, updated_by = excluded.updated_by, updated_at = now()
          returning project_id, rules, updated_at
        ), audited as (
          ${auditInsert(ctx, {
            action: "project.update_validation_rules",
            entity_type: "project",
            entity_id: sql`saved.project_id`,
            org_id: sql`target.org_id`,
            project_id: sql`saved.project_id`,
            before: sql`jsonb_build_object('validation_rules', coalesce(target.before_rules, '[]'::jsonb))`,
            after: sql`jsonb_build_object('validation_rules', saved.rules)`,
          }, sql`saved join target on target.project_id = saved.project_id`)}
        )
        select target.project_id, saved.rules, saved.updated_at from target left join saved on true`,
    ]);
  } catch (error) {
    const pgError = postgresErrorOf(error);
    if (pgError?.code !== INVALID_REGEX) throw error;
    throw new ApiError("validation_failed", "A pattern is not a valid PostgreSQL regular expression.", {
      errors: [{ path: "body.rules", message: (pgError as { message?: string }).message ?? "invalid regular expression" }],
    });
  }
  const row = rows![0] as RulesRow | undefined;
  if (!row) throw notFound(projectId);
  if (!mayUpdate) throw new ApiError("forbidden", "Your role does not allow this (project:update is required).");
  return present(row);
}
