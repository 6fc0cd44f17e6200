/**
 * A table's profile, built row by row while it is parsed (features/parsing feeds it):
 * bounded state per column (column-sketch.ts) plus the table's count of empty rows. The
 * state rides in the parse cursor, so it is committed in the same statement as the
 * chunk's rows and a redelivered or crashed chunk can neither count a row twice nor
 * lose one. duplicate_rows is added by SQL when the parse finishes (profile-sql.ts).
 */
import type { FileTableColumn } from "../../db/schema/files.ts";
import { ColumnSketch, type ColumnProfile, type ColumnSketchState } from "./column-sketch.ts";

export type ProfileState = { rows: number; empty_rows: number; columns: ColumnSketchState[] };

/** What file_table.profile holds (duplicate_rows joins it in the statement that stores it). */
export type TableProfile = { row_count: number; empty_rows: number; columns: ColumnProfile[] };

export function emptyProfileState(): ProfileState {
  return { rows: 0, empty_rows: 0, columns: [] };
}

export class ProfileBuilder {
  private readonly textTyping: boolean;
  private readonly sketches: ColumnSketch[];
  private readonly byName = new Map<string, ColumnSketch>();
  private rows: number;
  private emptyRows: number;

  /** `textTyping`: CSV and kin, whose cells are typed by their spelling (column-types.ts). */
  constructor(state: ProfileState, textTyping: boolean) {
    this.textTyping = textTyping;
    this.rows = state.rows;
    this.emptyRows = state.empty_rows;
    this.sketches = state.columns.map((column) => new ColumnSketch(column));
    for (const sketch of this.sketches) this.byName.set(sketch.name, sketch);
  }

  observe(row: Record<string, unknown>): void {
    let empty = true;
    for (const name in row) {
      const value = row[name];
      if (value === null || value === undefined) continue;
      if (value !== "") empty = false;
      let sketch = this.byName.get(name);
      if (!sketch) {
        sketch = ColumnSketch.empty(name);
        this.sketches.push(sketch);
        this.byName.set(name, sketch);
      }
      sketch.observe(value, this.textTyping);
    }
    this.rows += 1;
    if (empty) this.emptyRows += 1;
  }

  snapshot(): ProfileState {
    return { rows: this.rows, empty_rows: this.emptyRows, columns: this.sketches.map((sketch) => sketch.snapshot()) };
  }

  /** The profile of the finished table, its columns in the table's order (a column without values has an empty profile). */
  result(columns: readonly FileTableColumn[]): TableProfile {
    return {
      row_count: this.rows,
      empty_rows: this.emptyRows,
      columns: columns.map((column) => (this.byName.get(column.name) ?? ColumnSketch.empty(column.name)).profile(column.type, this.rows)),
    };
  }
}
