-- Hand-written (save cost): annotation_consensus as PL/pgSQL with the same query, so the
-- definition (drizzle/0016_row_consensus.sql, README "Consensus") is unchanged.
--
-- Why: a save calls it twice (the response's own consensus and the row's). As a SQL
-- function it was either inlined, and its body planned again inside every save
-- statement, or, where an argument was a sub-select, run as an uninlinable function
-- whose body the SQL-function executor plans on every call (about 6 ms of a 10 ms save
-- on PostgreSQL 15). PL/pgSQL prepares the body once per connection and keeps the plan;
-- Neon's connection pool, like the gateway's, keeps connections across requests.
-- The output columns are also PL/pgSQL variables; the body refers to columns only
-- through table aliases, and use_column settles any doubt towards them.
CREATE OR REPLACE FUNCTION "annotation_consensus"("responses" jsonb, "questions" jsonb, "decision" jsonb)
RETURNS TABLE ("responses_count" integer, "final" jsonb, "agreed" boolean)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE ROWS 1
AS $$
#variable_conflict use_column
begin
	return query
	select jsonb_array_length(responses),
		case when jsonb_array_length(responses) = 0 and decision is null then null
			else coalesce(q.consensus, '{}'::jsonb) || coalesce(decision, '{}'::jsonb) end,
		jsonb_array_length(responses) > 0 and coalesce(q.all_resolved, true)
	from (
		select jsonb_object_agg(qd.name, c.value) as consensus, bool_and(c.value is not null) as all_resolved
		from (
			select s.q ->> 'name' as name, s.q ->> 'type' as type, s.q -> 'options' as options
			from jsonb_array_elements(coalesce(questions, '[]'::jsonb)) s(q)
			union all
			select keys.k, 'free', null::jsonb
			from (select distinct k from jsonb_array_elements(responses) e(d)
				cross join lateral jsonb_object_keys(case when jsonb_typeof(e.d) = 'object' then e.d else '{}'::jsonb end) k) keys
			where questions is null
		) qd
		cross join lateral (
			select array_agg(e.d -> qd.name) as answers, count(*)::int as n from jsonb_array_elements(responses) e(d)
			where coalesce(jsonb_typeof(e.d -> qd.name), 'null') <> 'null'
		) a
		cross join lateral (select case qd.type
			when 'label' then (select x.v from unnest(a.answers) x(v) group by x.v having count(*) * 2 > a.n)
			when 'multi_label' then (select case when bool_or(o.hits * 2 = a.n) then null
					else coalesce(jsonb_agg(o.value order by o.position) filter (where o.hits * 2 > a.n), '[]'::jsonb) end
				from (select opt.value, opt.position,
						(select count(*) from unnest(a.answers) x(v) where jsonb_typeof(x.v) = 'array' and x.v @> jsonb_build_array(opt.value)) as hits
					from jsonb_array_elements(qd.options) with ordinality opt(value, position)) o)
			when 'rating' then (select to_jsonb(percentile_disc(0.5) within group (order by (x.v)::numeric)) from unnest(a.answers) x(v)
				where jsonb_typeof(x.v) = 'number')
			else (select min(x.v::text)::jsonb from unnest(a.answers) x(v) having count(distinct x.v) = 1)
		end as value) c
		where a.n > 0
	) q;
end
$$;
