// The label schema's rules exist twice: in TypeScript (questions.ts, which gives each
// problem its message) and in SQL (label_answers_valid, migration 0021, the verdict of
// a save whose isolate has not seen the schema yet). This runs both over the same
// answers, hand-picked edges and seeded near-misses of valid ones, and requires the
// same verdict on every one.
import { describe, expect, it } from "vitest";
import { checkAnswers, type Question } from "../src/features/label-schema/questions.ts";
import { seededRandom } from "./fuzz/prng.ts";
import { sql, testDb } from "./helpers/db.ts";

const db = testDb();

const ROW = { text: "a😀 bc", n: 5, empty: "" };
const TEXT_LENGTH = ROW.text.length; // 6 UTF-16 code units, 5 code points

const QUESTIONS: Question[] = [
  { name: "sentiment", type: "label", required: false, options: ["positive", "negative"] },
  { name: "topics", type: "multi_label", required: false, options: ["sport", "politics", "tech"] },
  { name: "stars", type: "rating", required: false, min: 1, max: 5 },
  { name: "tilt", type: "rating", required: false, min: -3, max: 3 },
  { name: "score", type: "number", required: false, min: 0 },
  { name: "ratio", type: "number", required: false, min: -1.5, max: 2.25 },
  { name: "free", type: "number", required: false },
  { name: "note", type: "text", required: false },
  { name: "entities", type: "span", required: false, field: "text", options: ["person", "place"] },
  { name: "counted", type: "span", required: false, field: "n", options: ["x"] },
  { name: "blank", type: "span", required: false, field: "empty", options: ["x"] },
  { name: "nowhere", type: "span", required: false, field: "missing", options: ["x"] },
  { name: "order", type: "ranking", required: false, options: ["a", "b", "c"] },
];

const span = (start: unknown, end: unknown, label: unknown = "person") => ({ start, end, label });

/** Values worth trying against every question: each type's edges. */
const EDGES: unknown[] = [
  "positive", "Positive", "negative ", "", "sport", "a", 0, 1, 3, 5, 6, -3, -4, 2.5, 1e6, 1e21, -0.0001, 2.25, 2.2500001, -1.5, -1.6,
  9007199254740991, Number("9007199254740993"), true, false, {}, [], ["sport"], ["sport", "tech"], ["sport", "sport"], ["sport", 1], ["chess"],
  [["sport"]], ["a", "b", "c"], ["c", "b", "a"], ["a", "b"], ["a", "b", "c", "a"], ["a", "a", "b"], ["a", "b", "d"],
  "x".repeat(10_000), "x".repeat(10_001), "😀".repeat(10_000), "😀".repeat(10_001), "é".repeat(10_000),
  [span(0, 1)], [span(0, TEXT_LENGTH)], [span(0, TEXT_LENGTH + 1)], [span(1, 3, "place"), span(0, 2)], [span(0, 0)], [span(2, 1)],
  [span(-1, 1)], [span(0.5, 1)], [span(0, 1.5)], [span(0, 2147483647)], [span(0, 2147483648)], [span(0, 1, "thing")], [span("0", 1)],
  [span(0, 1, 7)], [{ start: 0, end: 1 }], [{ ...span(0, 1), extra: 1 }], [null], [[0, 1]], [span(0, 1), "x"], [span(0, 1, "x")],
  { start: 0, end: 1, label: "person" },
];

/** A valid answer to `question`, then perhaps broken in one of the ways people break them. */
function nearMiss(question: Question, next: () => number): unknown {
  const pick = <T,>(values: readonly T[]) => values[Math.floor(next() * values.length)]!;
  const options = "options" in question ? question.options : [];
  const shuffled = [...options].sort(() => next() - 0.5);
  let value: unknown;
  switch (question.type) {
    case "label": value = pick(options); break;
    case "multi_label": value = shuffled.slice(0, Math.floor(next() * (options.length + 1))); break;
    case "rating": value = question.min + Math.floor(next() * (question.max - question.min + 1)); break;
    case "number": value = Math.round((next() * 10 - 5) * 4) / 4; break;
    case "text": value = "word ".repeat(Math.floor(next() * 4)); break;
    case "ranking": value = shuffled; break;
    case "span": {
      const start = Math.floor(next() * TEXT_LENGTH);
      value = [span(start, start + 1 + Math.floor(next() * (TEXT_LENGTH - start)), pick(options))];
      break;
    }
  }
  const breakage = next();
  if (breakage < 0.4) return value;
  if (Array.isArray(value)) {
    const items = [...value] as unknown[];
    if (breakage < 0.55) return [...items, items[0] ?? "sport"];
    if (breakage < 0.7) return items.slice(1);
    if (breakage < 0.8 && items.length > 0 && typeof items[0] === "object") {
      const first = items[0] as { start: number; end: number; label: string };
      return [{ ...first, end: first.end + pick([-first.end, 1, 0.5, TEXT_LENGTH]) }, ...items.slice(1)];
    }
    return [...items.slice(0, -1), pick(EDGES)];
  }
  if (typeof value === "number") return pick([value + 0.5, value * 1000, -value - 1, String(value)]);
  return pick(EDGES);
}

type Case = { questions: Question[]; data: Record<string, unknown> };

function tsVerdict({ questions, data }: Case): boolean {
  const { errors, spans } = checkAnswers(questions, data);
  const cells = ROW as Record<string, unknown>;
  return errors.length === 0 && spans.every((demand) => {
    const cell = cells[demand.field];
    return typeof cell === "string" && cell.length >= demand.end;
  });
}

function cases(): Case[] {
  const { next } = seededRandom(20261204);
  const all: Case[] = [];
  for (const question of QUESTIONS) {
    for (const value of EDGES) all.push({ questions: [question], data: { [question.name]: value } });
    for (let i = 0; i < 150; i++) all.push({ questions: [question], data: { [question.name]: nearMiss(question, next) } });
  }
  // Whole responses: several questions, unanswered ones (null), unknown keys, no schema.
  for (let i = 0; i < 300; i++) {
    const data: Record<string, unknown> = {};
    for (const question of QUESTIONS) {
      const roll = next();
      if (roll < 0.5) data[question.name] = nearMiss(question, next);
      else if (roll < 0.6) data[question.name] = null;
    }
    if (next() < 0.1) data.unknown = "x";
    all.push({ questions: QUESTIONS, data });
    if (i % 30 === 0) all.push({ questions: [], data });
  }
  // What the API receives has been through JSON.
  return all.map((one) => JSON.parse(JSON.stringify(one)) as Case);
}

describe("label_answers_valid (SQL) agrees with checkAnswers (TypeScript)", () => {
  it("gives the same verdict on every answer, valid and invalid alike", async () => {
    const all = cases();
    const result = await db.execute(sql`
      select c.i, label_answers_valid(nullif(c.questions, '[]'::jsonb), c.data, ${JSON.stringify(ROW)}::jsonb) as valid
      from jsonb_to_recordset(${JSON.stringify(all.map((one, i) => ({ i, ...one })))}::jsonb) as c(i int, questions jsonb, data jsonb)
      order by c.i`);
    const sqlVerdicts = (result.rows as { i: number; valid: boolean }[]).map((row) => row.valid);
    expect(sqlVerdicts).toHaveLength(all.length);
    const disagreements = all.flatMap((one, i) => tsVerdict(one) === sqlVerdicts[i] ? [] : [{ ...one, typescript: tsVerdict(one), sql: sqlVerdicts[i] }]);
    expect(disagreements).toEqual([]);

    // Not a vacuous agreement: every question type met both verdicts many times.
    for (const question of QUESTIONS) {
      const own = all.filter((one) => one.questions.length === 1 && one.questions[0]!.name === question.name);
      const valid = own.filter(tsVerdict).length;
      expect(valid, question.name).toBeGreaterThanOrEqual(question.type === "span" && question.field !== "text" ? 1 : 20);
      expect(own.length - valid, question.name).toBeGreaterThanOrEqual(20);
    }
  });

  it("takes an empty schema or none as accepting any object", async () => {
    const result = await db.execute(sql`select label_answers_valid(null, '{"anything": [1]}'::jsonb, null) as none,
      label_answers_valid('[]'::jsonb, '{"anything": [1]}'::jsonb, null) as empty`);
    expect(result.rows).toEqual([{ none: true, empty: true }]);
  });
});
