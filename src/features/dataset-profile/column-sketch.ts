/**
 * One column's profile while a table is parsed: exact counts (values, values per type,
 * numeric and temporal extremes) and two bounded sketches (HyperLogLog for distinct
 * values, space-saving for the most frequent ones). Its state is plain JSON of bounded
 * size, saved in the parse cursor with every chunk, so a resumed parse goes on exactly
 * where the last committed chunk stopped.
 */
import { joinTypes, textValueType, typedValueType, type ColumnType } from "../parsing/column-types.ts";
import { SpaceSaving, VALUE_CHARS, type Counter } from "./heavy-hitters.ts";
import { HyperLogLog } from "./hyperloglog.ts";

export type ColumnSketchState = {
  name: string;
  non_null: number;
  types: Partial<Record<ColumnType, number>>;
  hll: string | null;
  top: Counter[];
  /** Smallest and largest integer/number value. */
  number: [number, number] | null;
  /** Smallest and largest value as text (code-unit order, first VALUE_CHARS characters). */
  text: [string, string] | null;
  /** Earliest and latest date/datetime: [text, epoch ms] each. */
  time: [string, number, string, number] | null;
};

export const TOP_VALUES = 5;

export type ColumnProfile = {
  name: string;
  type: string;
  expected_type: ColumnType;
  non_null: number;
  nulls: number;
  distinct: number;
  min: string | number | null;
  max: string | number | null;
  top: { value: string; count: number; exact: boolean }[];
  type_violations: number;
  type_counts: Partial<Record<ColumnType, number>>;
};

/** Text of a value as it is counted, hashed and compared. */
function textOf(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Epoch ms of an ISO date or datetime as the typing accepts them (space separator, ±HHMM offsets). */
function epochOf(text: string): number {
  const iso = text.replace(" ", "T").replace(/([+-]\d{2})(\d{2})$/, "$1:$2");
  return Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : /(Z|[+-]\d{2}:\d{2})$/.test(iso) ? iso : `${iso}Z`);
}

/** How many values of the column fit `type` (integer fits number, date fits datetime). */
function fitting(types: ColumnSketchState["types"], type: ColumnType): number {
  let count = 0;
  for (const [other, n] of Object.entries(types) as [ColumnType, number][]) if (joinTypes(type, other) === type) count += n;
  return count;
}

/**
 * The type most values agree on: the non-string type that fits most values, when it fits
 * more than half of them; string otherwise. A numeric column with a few "N/A" cells is
 * therefore expected to be numeric, and those cells are its type violations, although its
 * table type (the join of all values) is string.
 */
export function expectedTypeOf(types: ColumnSketchState["types"], nonNull: number): ColumnType {
  let best: ColumnType = "string";
  let bestFits = 0;
  for (const type of Object.keys(types) as ColumnType[]) {
    if (type === "string") continue;
    const fits = fitting(types, type);
    if (fits > bestFits) [best, bestFits] = [type, fits];
  }
  return bestFits * 2 > nonNull ? best : "string";
}

export class ColumnSketch {
  private readonly state: ColumnSketchState;
  private readonly distinct: HyperLogLog;
  private readonly frequent: SpaceSaving;

  constructor(state: ColumnSketchState) {
    this.state = { ...state, types: { ...state.types } };
    this.distinct = new HyperLogLog(state.hll ?? undefined);
    this.frequent = new SpaceSaving(state.top);
  }

  static empty(name: string): ColumnSketch {
    return new ColumnSketch({ name, non_null: 0, types: {}, hll: null, top: [], number: null, text: null, time: null });
  }

  get name(): string {
    return this.state.name;
  }

  /** A non-null value; `textTyping`: CSV cells, typed by their spelling. */
  observe(value: unknown, textTyping: boolean): void {
    const state = this.state;
    const type = (textTyping && typeof value === "string" ? textValueType(value) : typedValueType(value))!;
    const text = textOf(value);
    state.non_null += 1;
    state.types[type] = (state.types[type] ?? 0) + 1;
    this.distinct.add(text);
    this.frequent.add(text);
    const key = text.length > VALUE_CHARS ? text.slice(0, VALUE_CHARS) : text;
    if (!state.text) state.text = [key, key];
    else if (key < state.text[0]) state.text[0] = key;
    else if (key > state.text[1]) state.text[1] = key;
    if (type === "integer" || type === "number") {
      const number = typeof value === "number" ? value : Number(text);
      if (!state.number) state.number = [number, number];
      else if (number < state.number[0]) state.number[0] = number;
      else if (number > state.number[1]) state.number[1] = number;
    } else if (type === "date" || type === "datetime") {
      const ms = epochOf(text);
      if (!state.time) state.time = [text, ms, text, ms];
      else if (ms < state.time[1]) [state.time[0], state.time[1]] = [text, ms];
      else if (ms > state.time[3]) [state.time[2], state.time[3]] = [text, ms];
    }
  }

  snapshot(): ColumnSketchState {
    const { number, text, time } = this.state;
    return {
      ...this.state,
      types: { ...this.state.types },
      hll: this.state.non_null > 0 ? this.distinct.serialise() : null,
      top: this.frequent.state(),
      number: number && [number[0], number[1]],
      text: text && [text[0], text[1]],
      time: time && [time[0], time[1], time[2], time[3]],
    };
  }

  profile(type: string, rowCount: number): ColumnProfile {
    const { name, non_null, types, number, text, time } = this.state;
    const expected = expectedTypeOf(types, non_null);
    const extremes: [string | number, string | number] | null =
      expected === "integer" || expected === "number" ? number : expected === "date" || expected === "datetime" ? time && [time[0], time[2]] : expected === "string" ? text : null;
    return {
      name,
      type,
      expected_type: expected,
      non_null,
      nulls: rowCount - non_null,
      distinct: non_null === 0 ? 0 : Math.min(this.distinct.estimate(), non_null),
      min: extremes?.[0] ?? null,
      max: extremes?.[1] ?? null,
      top: this.frequent.top(TOP_VALUES),
      type_violations: expected === "string" ? 0 : non_null - fitting(types, expected),
      type_counts: { ...types },
    };
  }
}
