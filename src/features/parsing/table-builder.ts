import { emptyProfileState, ProfileBuilder } from "../dataset-profile/profile-builder.ts";
import { toTableColumns } from "./column-types.ts";
import type { FinishedTable } from "./parse-job.service.ts";
import { RowBuffer } from "./row-buffer.ts";
import { TableStats, type ValueTyping } from "./table-stats.ts";

/** One table of a whole-file parse: its rows in batches, its column statistics, its count. */
export class TableBuilder {
  readonly tableId: number;
  readonly stats: TableStats;
  readonly buffer = new RowBuffer();
  private readonly profile: ProfileBuilder;
  private readonly label: string;
  private rowCount = 0;

  constructor(tableId: number, typing: ValueTyping, label: string) {
    this.tableId = tableId;
    this.stats = new TableStats([], typing);
    this.profile = new ProfileBuilder(emptyProfileState(), typing === "text");
    this.label = label;
  }

  add(data: Record<string, unknown>): void {
    this.stats.observe(data, `${this.label}, row_index ${this.rowCount}`);
    this.profile.observe(data);
    this.buffer.push(this.rowCount, data);
    this.rowCount += 1;
  }

  finished(): FinishedTable {
    const columns = toTableColumns(this.stats.snapshot(), this.rowCount);
    return { table_id: this.tableId, columns, row_count: this.rowCount, profile: this.profile.result(columns) };
  }
}
