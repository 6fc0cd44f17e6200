/**
 * A realistic CSV of a given size, written to disk as a stream (never held in memory):
 * nine columns of mixed types (integer, strings, number, boolean, date, timestamp) and a
 * free-text message of a few hundred bytes, RFC 4180 quoting where a field holds a
 * comma or a quote, CRLF line ends. Deterministic (seeded), so every run parses the
 * same bytes; ten thousand distinct rows repeat with increasing ids. No field holds a line break, so the file can be cut at any line end (the
 * embedded COPY feeds it in pieces).
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";

export type GeneratedCsv = { path: string; bytes: number; rows: number; columns: string[] };

export const CSV_COLUMNS = ["id", "customer", "email", "city", "amount", "active", "signup_date", "updated_at", "message"];

/** The same columns as a table for PostgreSQL's COPY, typed as the parser infers them. */
export const CSV_TABLE_COLUMNS =
  "id integer, customer text, email text, city text, amount numeric, active boolean, signup_date date, updated_at timestamptz, message text";

const WORDS = ("the order arrived late and the box was damaged but support replied quickly with a refund offer " +
  "I would like to change my delivery address before shipping please confirm the new date " +
  "great product works as described battery lasts two days screen is bright enough outdoors").split(" ");
const CITIES = ["Berlin", "Lyon", "Osaka", "Austin", "Porto", "Nairobi", "Lima", "Hanoi", "Oslo", "Cork"];
const NAMES = ["Ada", "Grace", "Linus", "Ken", "Barbara", "Edsger", "Margaret", "Dennis", "Frances", "Alan"];

function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quoted(field: string): string {
  return /[",]/.test(field) ? `"${field.replaceAll('"', '""')}"` : field;
}

/** Everything after the id: built once per distinct row, then reused (generation runs at disk speed). */
function rowTail(i: number, next: () => number): string {
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)]!;
  const words: string[] = [];
  const length = 40 + Math.floor(next() * 40);
  for (let w = 0; w < length; w++) words.push(pick(WORDS));
  let message = words.join(" ");
  if (i % 10 === 3) message = message.replace(" and ", ", and ");
  if (i % 50 === 7) message = `He said "${message.slice(0, 40)}" twice`;
  const name = `${pick(NAMES)} ${pick(NAMES)}son`;
  const day = 1 + (i % 28);
  return [
    i % 25 === 0 ? `${name}, Jr.` : name,
    `customer${i + 1}@example.com`,
    pick(CITIES),
    (next() * 10_000).toFixed(2),
    next() < 0.5 ? "true" : "false",
    `2025-${String(1 + (i % 12)).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
    `2026-0${1 + (i % 9)}-${String(day).padStart(2, "0")}T${String(i % 24).padStart(2, "0")}:15:00Z`,
    message,
  ].map(quoted).join(",");
}

const DISTINCT_ROWS = 10_007;

export async function generateCsv(path: string, targetBytes: number): Promise<GeneratedCsv> {
  const out = createWriteStream(path);
  const next = random(20261122);
  const tails = Array.from({ length: DISTINCT_ROWS }, (_, i) => rowTail(i, next));
  let bytes = 0;
  let rows = 0;
  let buffer = `${CSV_COLUMNS.join(",")}\r\n`;
  for (;;) {
    const line = `${rows + 1},${tails[rows % DISTINCT_ROWS]}\r\n`;
    if (bytes + buffer.length + line.length > targetBytes) break;
    buffer += line;
    rows += 1;
    if (buffer.length >= 1 << 20) {
      bytes += Buffer.byteLength(buffer);
      if (!out.write(buffer)) await once(out, "drain");
      buffer = "";
    }
  }
  bytes += Buffer.byteLength(buffer);
  out.end(buffer);
  await once(out, "finish");
  return { path, bytes, rows, columns: CSV_COLUMNS };
}
