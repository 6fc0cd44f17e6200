import { joinTypes, textValueType, typedValueType, type ColumnStats, type ColumnType } from "./column-types.ts";
import { describeCount, PARSE_LIMITS } from "./limits.ts";
import { ParseError } from "./parse-error.ts";

export type ValueTyping = "text" | "typed";

/**
 * Column statistics of one table while it is being built: columns in order of first
 * appearance (the header's order for CSV, first-seen key order for JSON), each with the
 * join of its values' types. Serialisable into the parse cursor, so a later chunk goes
 * on from exactly where the previous one stopped.
 */
export class TableStats {
  private readonly columns: ColumnStats[];
  private readonly byName = new Map<string, ColumnStats>();
  private readonly typing: ValueTyping;

  constructor(columns: readonly ColumnStats[], typing: ValueTyping) {
    this.typing = typing;
    this.columns = columns.map((column) => ({ ...column }));
    for (const column of this.columns) this.byName.set(column.name, column);
  }

  /** Adds the columns not seen yet (a header, or the keys of a row). */
  declare(names: Iterable<string>, where: string): void {
    for (const name of names) {
      if (this.byName.has(name)) continue;
      if (this.columns.length >= PARSE_LIMITS.columns) {
        throw new ParseError(`${where}: more than ${describeCount(PARSE_LIMITS.columns)} columns; the limit is ${describeCount(PARSE_LIMITS.columns)} columns.`);
      }
      const column: ColumnStats = { name, type: null, non_null: 0 };
      this.columns.push(column);
      this.byName.set(name, column);
    }
  }

  observe(row: Record<string, unknown>, where: string): void {
    this.declare(Object.keys(row), where);
    for (const column of this.columns) {
      const value = row[column.name];
      if (value === null || value === undefined) continue;
      column.non_null += 1;
      // string absorbs every other type, so its values need no more looking at.
      if (column.type === "string") continue;
      const type: ColumnType | null = this.typing === "text" && typeof value === "string" ? textValueType(value) : typedValueType(value);
      if (type) column.type = joinTypes(column.type, type);
    }
  }

  get names(): string[] {
    return this.columns.map((column) => column.name);
  }

  snapshot(): ColumnStats[] {
    return this.columns.map((column) => ({ ...column }));
  }
}
