/**
 * The difference between two versions' table schemas. Tables are matched by name (an
 * XLSX sheet keeps its name across versions); when both versions have exactly one table
 * they are matched whatever their names, since a CSV's table is named after its file and
 * a new version may be uploaded under another name. Columns are matched by name: a
 * renamed column is one removed and one added.
 */
import type { FileTableColumn } from "../../db/schema/files.ts";

export type SchemaTable = { table_id: number; name: string; columns: FileTableColumn[] };

export type ColumnRef = { name: string; type: string };

export type TableDiff = {
  name: string;
  table_id: number | null;
  previous_table_id: number | null;
  added: ColumnRef[];
  removed: ColumnRef[];
  retyped: { name: string; from: string; to: string }[];
};

const ref = (column: FileTableColumn): ColumnRef => ({ name: column.name, type: column.type });

function diffColumns(name: string, current: SchemaTable | null, previous: SchemaTable | null): TableDiff {
  const before = new Map((previous?.columns ?? []).map((column) => [column.name, column]));
  const after = new Map((current?.columns ?? []).map((column) => [column.name, column]));
  const retyped: TableDiff["retyped"] = [];
  for (const column of after.values()) {
    const old = before.get(column.name);
    if (old && old.type !== column.type) retyped.push({ name: column.name, from: old.type, to: column.type });
  }
  return {
    name,
    table_id: current?.table_id ?? null,
    previous_table_id: previous?.table_id ?? null,
    added: [...after.values()].filter((column) => !before.has(column.name)).map(ref),
    removed: [...before.values()].filter((column) => !after.has(column.name)).map(ref),
    retyped,
  };
}

/** One entry per table of either version: the current version's tables in order, then those only the previous had. */
export function diffSchemas(current: SchemaTable[], previous: SchemaTable[]): TableDiff[] {
  if (current.length === 1 && previous.length === 1) return [diffColumns(current[0]!.name, current[0]!, previous[0]!)];
  const previousByName = new Map(previous.map((table) => [table.name, table]));
  const currentNames = new Set(current.map((table) => table.name));
  return [
    ...current.map((table) => diffColumns(table.name, table, previousByName.get(table.name) ?? null)),
    ...previous.filter((table) => !currentNames.has(table.name)).map((table) => diffColumns(table.name, null, table)),
  ];
}
