/** How validation runs, their violations and a project's rules look in answers. */
import { z } from "@hono/zod-openapi";
import { VALIDATION_STATUSES } from "../../db/schema/validations.ts";
import { RULE_KINDS, ValidationRuleSchema, type ValidationRule } from "./validation-rules.ts";

export const ProjectValidationRulesSchema = z
  .object({
    project_id: z.number().int(),
    rules: z.array(ValidationRuleSchema),
    updated_at: z.string().nullable().openapi({ description: "Null while the project has never had rules." }),
  })
  .openapi("ValidationRules");

export const ValidationRunSchema = z
  .object({
    validation_id: z.number().int(),
    project_id: z.number().int(),
    table_id: z.number().int(),
    status: z.enum(VALIDATION_STATUSES),
    progress: z.object({ done: z.number().int(), total: z.number().int() }).openapi({ description: "Rows checked of the table's rows." }),
    violation_count: z.number().int().openapi({ description: "Violations found so far." }),
    rules: z.array(ValidationRuleSchema).openapi({ description: "The project's rules when the run was requested." }),
    error: z.string().nullable(),
    created_at: z.string(),
    finished_at: z.string().nullable(),
  })
  .openapi("ValidationRun");

export const ViolationSchema = z
  .object({
    row_index: z.number().int(),
    column: z.string(),
    rule: z.enum(RULE_KINDS),
    value: z.string().nullable().openapi({ description: "The offending value as text (first 1,000 characters); null when missing." }),
  })
  .openapi("ValidationViolation");

export type ValidationRunView = z.infer<typeof ValidationRunSchema>;
export type ViolationView = z.infer<typeof ViolationSchema>;

export type ValidationRunRow = {
  validation_id: number;
  project_id: number;
  table_id: number;
  status: ValidationRunView["status"];
  next_row: number;
  total_rows: number;
  violation_count: number;
  rules: ValidationRule[];
  error: string | null;
  created_at: string;
  finished_at: string | null;
};

const iso = (value: string) => new Date(value).toISOString();

export function presentValidationRun(row: ValidationRunRow): ValidationRunView {
  return {
    validation_id: row.validation_id,
    project_id: row.project_id,
    table_id: row.table_id,
    status: row.status,
    progress: { done: row.next_row, total: row.total_rows },
    violation_count: row.violation_count,
    rules: row.rules,
    error: row.error,
    created_at: iso(row.created_at),
    finished_at: row.finished_at ? iso(row.finished_at) : null,
  };
}
