/**
 * A row's `final` value and whether its responses `agreed`, computed in SQL so that the
 * item list, the responses read and the export stream all share one definition and each
 * stays a single query (no second read of the schema, no per-row work in TypeScript).
 *
 * Per question of the project's label schema, over the responses that answer it (a
 * missing or null answer does not count; `n` is how many answer):
 * - `label`: the option more than half of the `n` answers chose (strict majority);
 *   otherwise unresolved.
 * - `multi_label`: decided option by option: an option is in the final set when more
 *   than half of the `n` answers include it, out of it when fewer than half do; a tie
 *   (exactly half) on any option leaves the question unresolved. The set keeps the
 *   schema's option order.
 * - `rating`: the median; for an even `n` the lower of the two middle values, so it
 *   stays an integer of the scale. Always resolved once answered.
 * - `number`, `text`, `span`, `ranking`: unanimity: every answer equal (JSON equality;
 *   spans compared as the lists they are). These have no meaningful "majority" (a text
 *   or a ranking half the annotators wrote differently is not agreed), so a reviewer
 *   decides.
 * - Without a label schema every top-level key of the responses is compared by
 *   unanimity.
 *
 * `final` maps each question answered by at least one response to its consensus, or
 * null when unresolved; a reviewer's `PUT …/final` values replace it question by
 * question. `agreed` is true when there is at least one response and every answered
 * question is resolved by the responses themselves (a reviewer's decision does not
 * make them agree). `final` is null for a row with neither responses nor a reviewer's
 * decision.
 */
import { sql, type SQL } from "drizzle-orm";

/** The answers to question `qd` among the responses `src.resp` (a jsonb array of response data). */
const ANSWERS = sql`(select e.d -> qd.name as v from jsonb_array_elements(src.resp) e(d)
  where coalesce(jsonb_typeof(e.d -> qd.name), 'null') <> 'null')`;

const VALUE = sql`case qd.type
  when 'label' then (select x.v from ${ANSWERS} x group by x.v having count(*) * 2 > a.n)
  when 'multi_label' then (select case when bool_or(o.hits * 2 = a.n) then null
      else coalesce(jsonb_agg(o.value order by o.position) filter (where o.hits * 2 > a.n), '[]'::jsonb) end
    from (select opt.value, opt.position,
        (select count(*) from ${ANSWERS} x where jsonb_typeof(x.v) = 'array' and x.v @> jsonb_build_array(opt.value)) as hits
      from jsonb_array_elements(qd.options) with ordinality opt(value, position)) o)
  when 'rating' then (select to_jsonb(percentile_disc(0.5) within group (order by (x.v)::numeric)) from ${ANSWERS} x
    where jsonb_typeof(x.v) = 'number')
  else (select min(x.v::text)::jsonb from ${ANSWERS} x having count(distinct x.v) = 1)
end`;

/**
 * A lateral subquery with the columns `responses_count`, `final` and `agreed` of one row:
 * `responses` a jsonb array of the response data to compare, `projectId` the job's
 * project (its label schema), `override` the reviewer's final data (jsonb) or null.
 */
export function consensusSql(responses: SQL, projectId: SQL, override: SQL): SQL {
  return sql`select jsonb_array_length(src.resp) as responses_count,
      case when jsonb_array_length(src.resp) = 0 and src.override is null then null
        else coalesce(q.final, '{}'::jsonb) || coalesce(src.override, '{}'::jsonb) end as final,
      (jsonb_array_length(src.resp) > 0 and coalesce(q.all_resolved, true)) as agreed
    from (select ${responses} as resp, ${override} as override, ${projectId} as project_id) src
    cross join lateral (
      select jsonb_object_agg(qd.name, c.value) as final, bool_and(c.value is not null) as all_resolved
      from (
        select s.q ->> 'name' as name, s.q ->> 'type' as type, s.q -> 'options' as options
        from label_schema ls cross join lateral jsonb_array_elements(ls.questions) s(q)
        where ls.project_id = src.project_id
        union all
        select keys.k, 'free', null::jsonb
        from (select distinct k from jsonb_array_elements(src.resp) e(d)
          cross join lateral jsonb_object_keys(case when jsonb_typeof(e.d) = 'object' then e.d else '{}'::jsonb end) k) keys
        where not exists (select 1 from label_schema ls where ls.project_id = src.project_id)
      ) qd
      cross join lateral (select count(*)::int as n from ${ANSWERS} x) a
      cross join lateral (select ${VALUE} as value) c
      where a.n > 0
    ) q`;
}
