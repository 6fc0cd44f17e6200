/** How a table's profile looks in answers. */
import { z } from "@hono/zod-openapi";
import { COLUMN_TYPES } from "../parsing/parsing.presenters.ts";

const extreme = z.union([z.number(), z.string()]).nullable();

export const ColumnProfileSchema = z
  .object({
    name: z.string(),
    type: z.enum(COLUMN_TYPES).openapi({ description: "The column's type in the table (the join of every value's type)." }),
    expected_type: z.enum(COLUMN_TYPES).openapi({
      description: "The non-string type that fits more than half of the values (integer fits number, date fits datetime), else string.",
    }),
    non_null: z.number().int().openapi({ description: "Exact." }),
    nulls: z.number().int().openapi({ description: "Exact: rows without a value for the column." }),
    distinct: z.number().int().openapi({ description: "HyperLogLog estimate, standard error 3.25 % (exact in practice below a few hundred values)." }),
    min: extreme.openapi({ description: "Exact, by expected_type: numbers numerically, date/datetime in time, strings by their first 100 characters; null for boolean and json." }),
    max: extreme,
    top: z
      .array(z.object({ value: z.string(), count: z.number().int(), exact: z.boolean() }))
      .openapi({
        description: "Up to 5 most frequent values (as text, first 100 characters), by a 16-counter space-saving sketch: a value "
          + "holding more than 1/16 of the values is always listed; `exact: false` counts may overestimate.",
      }),
    type_violations: z.number().int().openapi({ description: "Exact: values that do not fit expected_type." }),
    type_counts: z.record(z.string(), z.number().int()).openapi({ description: "Exact: values per type." }),
  })
  .openapi("ColumnProfile");

export const TableProfileSchema = z
  .object({
    table_id: z.number().int(),
    row_count: z.number().int(),
    duplicate_rows: z.number().int().openapi({ description: "Exact: rows equal to an earlier row (all values)." }),
    empty_rows: z.number().int().openapi({ description: "Exact: rows without any non-empty value." }),
    columns: z.array(ColumnProfileSchema).openapi({ description: "In the table's column order." }),
  })
  .openapi("TableProfile");

export type TableProfileView = z.infer<typeof TableProfileSchema>;
