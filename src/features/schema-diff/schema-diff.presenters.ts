import { z } from "@hono/zod-openapi";

const ColumnRefSchema = z.object({ name: z.string(), type: z.string() });

export const SchemaDiffSchema = z
  .object({
    version_id: z.number().int(),
    version_number: z.number().int(),
    previous_version_id: z.number().int().nullable().openapi({
      description: "The newest earlier version of the file with parsed tables; null for the first one (every column is then added).",
    }),
    previous_version_number: z.number().int().nullable(),
    tables: z
      .array(
        z.object({
          name: z.string(),
          table_id: z.number().int().nullable().openapi({ description: "Null: the table (sheet) was removed." }),
          previous_table_id: z.number().int().nullable().openapi({ description: "Null: the table (sheet) is new." }),
          added: z.array(ColumnRefSchema),
          removed: z.array(ColumnRefSchema),
          retyped: z.array(z.object({ name: z.string(), from: z.string(), to: z.string() })),
        }),
      )
      .openapi({
        description: "Tables matched by name, or the only table of each version with each other; columns matched by name (a rename is a removal and an addition).",
      }),
  })
  .openapi("SchemaDiff");

export type SchemaDiffView = z.infer<typeof SchemaDiffSchema>;
