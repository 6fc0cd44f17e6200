import { sql, type SQL } from "drizzle-orm";

/** A row's suggestions as a JSON array `[{question, agent, value, score, updated_at}]` (by question, then agent), for item queries. */
export function rowSuggestionsSql(tableId: SQL, rowIndex: SQL): SQL {
  return sql`(select coalesce(jsonb_agg(jsonb_build_object('question', s.question, 'agent', s.agent, 'value', s.value, 'score', s.score,
      'updated_at', to_char(s.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) order by s.question, s.agent), '[]'::jsonb)
    from suggestion s where s.table_id = ${tableId} and s.row_index = ${rowIndex})`;
}

export type RowSuggestion = { question: string; agent: string; value: unknown; score: number | null; updated_at: string };
