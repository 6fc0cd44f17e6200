/** How parsed tables and their rows look in answers. */
import { z } from "@hono/zod-openapi";
import type { FileTableColumn } from "../../db/schema/files.ts";

export const COLUMN_TYPES = ["integer", "number", "boolean", "date", "datetime", "string", "json"] as const;

export const FileTableSchema = z
  .object({
    table_id: z.number().int(),
    name: z.string().openapi({ description: "The sheet name for XLSX; the file name without extension otherwise." }),
    columns: z
      .array(
        z.object({
          name: z.string(),
          type: z.enum(COLUMN_TYPES).openapi({ description: "Inferred from every value of the column." }),
          nullable: z.boolean().openapi({ description: "Whether some row has no value for the column." }),
        }),
      )
      .openapi({ description: "In source order." }),
    row_count: z.number().int(),
  })
  .openapi("FileTable");

export const FileTableRowSchema = z
  .object({
    row_index: z.number().int().openapi({ description: "0-based position in the table." }),
    data: z.record(z.string(), z.unknown()).openapi({ description: "Values keyed by column name; null where empty." }),
  })
  .openapi("FileTableRow");

export type FileTableView = z.infer<typeof FileTableSchema>;
export type FileTableRowView = z.infer<typeof FileTableRowSchema>;

export type FileTableRow = { table_id: number; name: string; columns: FileTableColumn[]; row_count: number };

export function presentFileTable(row: FileTableRow): FileTableView {
  return {
    table_id: row.table_id,
    name: row.name,
    columns: row.columns.map((column) => ({ name: column.name, type: column.type as FileTableView["columns"][number]["type"], nullable: column.nullable })),
    row_count: row.row_count,
  };
}
