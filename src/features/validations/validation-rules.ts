/**
 * A project's validation rules: one rule per (column, kind), checked against a table's
 * stored rows by SQL (rule-checks.ts). Values are checked by their text, as CSV cells are
 * typed (column-types.ts): the string "42" is an integer for the `type` rule whatever the
 * source format. A missing or null value breaks only `required`; the other rules skip it.
 */
import { z } from "@hono/zod-openapi";
import { COLUMN_TYPES } from "../parsing/parsing.presenters.ts";

export const RULE_KINDS = ["required", "type", "allowed", "pattern", "unique", "range"] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

const column = z.string().min(1).max(200).openapi({ description: "A column name of the tables the rules are run on; a column a table lacks holds no values." });

export const ValidationRuleSchema = z
  .discriminatedUnion("rule", [
    z.strictObject({ column, rule: z.literal("required") }).openapi({ description: "Every row has a non-empty value." }),
    z.strictObject({ column, rule: z.literal("type"), type: z.enum(COLUMN_TYPES) }).openapi({
      description: "Values fit the type (integer fits number, date fits datetime; strings by their spelling; every scalar fits string).",
    }),
    z.strictObject({ column, rule: z.literal("allowed"), values: z.array(z.string().max(1000)).min(1).max(1000) }).openapi({
      description: "Values (as text) are one of these.",
    }),
    z.strictObject({ column, rule: z.literal("pattern"), pattern: z.string().min(1).max(500) }).openapi({
      description: "Values (as text) match this PostgreSQL regular expression (POSIX ARE, unanchored: use ^…$ for the whole value).",
    }),
    z.strictObject({ column, rule: z.literal("unique") }).openapi({ description: "No value repeats: every row after a value's first is a violation." }),
    z.strictObject({ column, rule: z.literal("range"), min: z.number().optional(), max: z.number().optional() }).openapi({
      description: "Numeric values (numbers, or text spelling one) lie within [min, max]; other values are left to `type`.",
    }),
  ])
  .openapi("ValidationRule");

export type ValidationRule = z.infer<typeof ValidationRuleSchema>;

export const ValidationRulesSchema = z
  .array(ValidationRuleSchema)
  .max(100)
  .superRefine((rules, context) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      const key = JSON.stringify([rule.column, rule.rule]);
      if (seen.has(key)) context.addIssue({ code: "custom", path: [index], message: `A second ${rule.rule} rule for column "${rule.column}": one rule of a kind per column.` });
      seen.add(key);
      if (rule.rule === "range" && rule.min === undefined && rule.max === undefined) context.addIssue({ code: "custom", path: [index], message: "A range rule needs min, max or both." });
      if (rule.rule === "range" && rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
        context.addIssue({ code: "custom", path: [index, "min"], message: "min is greater than max." });
      }
    });
  });
