/**
 * Postgres full-text search over parsed rows (README "Search"): the text search
 * configuration of a file's `language`, the row's vector as the parse stores it, the
 * query `q` as a tsquery, and the keyset cursor of a ranked list.
 *
 * A table keeps the configuration its rows were indexed with (`file_table.search_config`,
 * set when its parse begins): a query must be parsed with the configuration of the
 * vectors it is matched against, or stems differ ("arrived" is `arriv` in English and
 * stays `arrived` in French) and nothing matches. Changing a file's language therefore
 * takes effect for search at its next parse.
 */
import { z } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import { decodeCursor, encodeCursor, invalidCursor } from "../../lib/pagination.ts";

/**
 * The file languages' configurations. Chinese has no configuration in stock Postgres (no
 * word segmenter), so it falls back to `simple` (no stemming, no stop words), as does any
 * language without one; English when the file has none.
 */
export const SEARCH_CONFIGS = { en: "english", fr: "french", de: "german", es: "spanish", ar: "arabic", zh: "simple" } as const;
export const DEFAULT_SEARCH_CONFIG = "english";

/** SQL: the configuration name (text) for a `language` value. */
export function searchConfigOf(language: SQL): SQL {
  const cases = Object.entries(SEARCH_CONFIGS).map(([code, config]) => sql`when ${sql.raw(`'${code}'`)} then ${sql.raw(`'${config}'`)}`);
  return sql`(case coalesce(${language}::text, 'en') ${sql.join(cases, sql` `)} else 'simple' end)`;
}

/**
 * Vectors above this many bytes of row JSON are built from their first this-many
 * characters of string cells: a tsvector holds at most 1 MiB of lexemes, and a row's
 * lexemes never outnumber the bytes of its JSON, so below the cap the whole row is
 * indexed and above it the parse still succeeds (a PDF paragraph or a wide XLSX row).
 */
export const SEARCH_ROW_BYTES = 512 * 1024;

/**
 * A row's vector: its string cells (`to_tsvector(config, jsonb)` reads only string values,
 * so column names, numbers and booleans are not words of the row) in `config`.
 */
export function rowSearchVector(config: SQL, data: SQL): SQL {
  return sql`(case when pg_column_size(${data}) <= ${sql.raw(String(SEARCH_ROW_BYTES))} then to_tsvector(${config}, ${data})
    else to_tsvector(${config}, left((select string_agg(cell.value #>> '{}', ' ') from jsonb_each(${data}) cell
      where jsonb_typeof(cell.value) = 'string'), ${sql.raw(String(SEARCH_ROW_BYTES))})) end)`;
}

/** The table's configuration as a regconfig (an uncorrelated subquery: evaluated once per statement). */
export function tableSearchConfig(tableId: SQL): SQL {
  return sql`(select st.search_config::regconfig from file_table st where st.table_id = ${tableId})`;
}

/**
 * `q` as a tsquery in `config`: web-search syntax (words, "quoted phrases", `or`, `-word`),
 * which never fails to parse whatever the user typed. Only stop words: an empty query,
 * which matches nothing.
 */
export function searchQuery(config: SQL, q: string): SQL {
  return sql`websearch_to_tsquery(${config}, ${q}::text)`;
}

export const qParameter = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((text) => !text.includes("\u0000"), "must not contain NUL characters")
  .optional()
  .openapi({
    description:
      "Full-text search (Postgres, web-search syntax: words, \"quoted phrases\", `or`, `-word`) in the table's language (the file's " +
      "`language` when it was parsed; English when unset). Only matching rows, best first (ts_rank), then by row_index.",
  });

const RANK_TEXT = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i;

/** A ranked list's position: the last row's rank (real, as Postgres printed it: exact) and row_index. */
export type RankPosition = { rank: string; rowIndex: number };

export function decodeRankCursor(cursor: string | undefined): RankPosition | null {
  if (!cursor) return null;
  const { value, id } = decodeCursor(cursor, "rank");
  if (typeof value !== "string" || !RANK_TEXT.test(value)) throw invalidCursor();
  return { rank: value, rowIndex: id };
}

export function encodeRankCursor(rank: string, rowIndex: number): string {
  return encodeCursor("rank", rank, rowIndex);
}

/** Strictly after the cursor's row in (rank desc, row_index) order; `rank` a real. */
export function afterRank(rank: SQL, rowIndex: SQL, position: RankPosition | null): SQL {
  if (!position) return sql`true`;
  return sql`(${rank} < ${position.rank}::real or (${rank} = ${position.rank}::real and ${rowIndex} > ${position.rowIndex}::integer))`;
}
