/**
 * Rules as SQL over one chunk of rows (the CTE `chunk_rows(row_index, data)`): each rule
 * is a SELECT of `(row_index, "column", rule, value)` for the rows that break it, all of
 * them UNION ALL'd into one statement. The type spellings are column-types.ts's, in
 * PostgreSQL's regular expressions.
 */
import { sql, type SQL } from "drizzle-orm";
import type { ColumnType } from "../parsing/column-types.ts";
import type { ValidationRule } from "./validation-rules.ts";

const INTEGER = "^-?(0|[1-9][0-9]*)$";
const NUMBER = "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$";
const BOOLEAN = "^(true|false)$";
const DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
const DATETIME = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?$";

/** Whether the value `value` (jsonb) with text `text` fits `type`. */
function fits(type: ColumnType, value: SQL, text: SQL): SQL {
  const kind = sql`jsonb_typeof(${value})`;
  switch (type) {
    case "integer":
      return sql`((${kind} = 'number' and ${text} ~ '^-?[0-9]+$') or (${kind} = 'string' and ${text} ~ ${INTEGER}))`;
    case "number":
      return sql`(${kind} = 'number' or (${kind} = 'string' and ${text} ~ ${NUMBER}))`;
    case "boolean":
      return sql`(${kind} = 'boolean' or (${kind} = 'string' and ${text} ~* ${BOOLEAN}))`;
    case "date":
      return sql`(${kind} = 'string' and ${text} ~ ${DATE})`;
    case "datetime":
      return sql`(${kind} = 'string' and (${text} ~ ${DATE} or ${text} ~ ${DATETIME}))`;
    case "string":
      return sql`(${kind} in ('string', 'number', 'boolean'))`;
    case "json":
      return sql`(${kind} in ('object', 'array'))`;
  }
}

/** The CTE name of a unique rule's numbered values. */
const uniqueName = (index: number) => sql.raw(`unique_${index}`);

/** One broken-rule SELECT for `rule` (the index names its unique CTE). */
function violationsOf(rule: ValidationRule, index: number, validationId: number): SQL {
  const value = sql`(r.data -> ${rule.column}::text)`;
  const text = sql`(r.data ->> ${rule.column}::text)`;
  const select = (predicate: SQL) => sql`select r.row_index, ${rule.column}::text as "column", ${rule.rule}::text as rule, ${text} as value
    from chunk_rows r where ${predicate}`;
  switch (rule.rule) {
    case "required":
      return select(sql`(${text} is null or ${text} = '')`);
    case "type":
      return select(sql`${text} is not null and not ${fits(rule.type, value, text)}`);
    case "allowed":
      return select(sql`${text} is not null and not (${JSON.stringify(rule.values)}::jsonb ? ${text})`);
    case "pattern":
      return select(sql`${text} is not null and ${text} !~ ${rule.pattern}::text`);
    case "range": {
      const number = sql`${text}::numeric`;
      const outside = [
        rule.min === undefined ? null : sql`${number} < ${rule.min}::numeric`,
        rule.max === undefined ? null : sql`${number} > ${rule.max}::numeric`,
      ].filter((part): part is SQL => part !== null);
      // CASE keeps the cast away from text that does not spell a number.
      return select(sql`case when ${text} ~ ${NUMBER} then (${sql.join(outside, sql` or `)}) else false end`);
    }
    case "unique":
      return sql`select u.row_index, ${rule.column}::text as "column", 'unique'::text as rule, u.value
        from ${uniqueName(index)} u
        where u.occurrence > 1 or exists (select 1 from validation_seen_value s
          where s.validation_id = ${validationId}::int and s."column" = ${rule.column}::text and s.value_hash = u.value_hash)`;
  }
}

/**
 * A chunk's checks as CTEs to follow `chunk_rows`: one numbering CTE per unique rule
 * (each value's rows in the chunk, in row order), then `checks`, every violation of the
 * chunk. `seenInsert(guard)` records each unique value's first row in the chunk for the
 * chunks after it (null without unique rules).
 */
export function ruleChecks(rules: readonly ValidationRule[], validationId: number): { ctes: SQL; seenInsert: (guard: SQL) => SQL | null } {
  const uniques = rules.map((rule, index) => ({ rule, index })).filter(({ rule }) => rule.rule === "unique");
  const numbered = uniques.map(({ rule, index }) => sql`${uniqueName(index)} as (
      select r.row_index, r.data ->> ${rule.column}::text as value, md5(r.data ->> ${rule.column}::text)::uuid as value_hash,
        row_number() over (partition by r.data ->> ${rule.column}::text order by r.row_index) as occurrence
      from chunk_rows r where r.data ->> ${rule.column}::text is not null
    ), `);
  const selects = rules.map((rule, index) => violationsOf(rule, index, validationId));
  const checks = selects.length === 0
    ? sql`select null::int as row_index, null::text as "column", null::text as rule, null::text as value where false`
    : sql.join(selects, sql` union all `);
  const seenInsert = (guard: SQL) =>
    uniques.length === 0
      ? null
      : sql`insert into validation_seen_value (validation_id, "column", value_hash, first_row)
          ${sql.join(
            uniques.map(({ rule, index }) => sql`select ${validationId}::int, ${rule.column}::text, u.value_hash, u.row_index from ${uniqueName(index)} u, ${guard} where u.occurrence = 1`),
            sql` union all `,
          )}
          on conflict do nothing`;
  return { ctes: sql`${sql.join(numbered, sql``)}checks as (${checks})`, seenInsert };
}
