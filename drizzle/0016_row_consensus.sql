-- Hand-edited (row consensus): the definition of a row's consensus, as a SQL function
-- so that the statements that keep it current (src/features/responses/consensus.ts)
-- and this migration's backfill share it. Changing the definition is a new migration
-- that replaces this function and recomputes row_consensus and annotation.own_final.
--
-- annotation_consensus(responses, questions, decision): `responses` a jsonb array of
-- the responses' data, `questions` the project's label schema questions (null: the
-- project has no schema, and every top-level key is compared by unanimity), `decision`
-- the reviewer's final data or null. Per question, over the responses answering it
-- (missing or null does not count; n = how many answer): label — the value more than
-- half of n chose; multi_label — option by option, in the set when more than half of n
-- include it, out when fewer than half do, unresolved on any tie (the set in the
-- schema's option order); rating — the median (the lower middle for an even n);
-- number, text, span, ranking and schemaless keys — unanimity (JSON equality).
-- `final` maps each answered question to its consensus or null (unresolved), then the
-- decision's questions replace theirs; null with neither responses nor a decision.
-- `agreed`: at least one response and every answered question resolved by them.
CREATE FUNCTION "annotation_consensus"("responses" jsonb, "questions" jsonb, "decision" jsonb)
RETURNS TABLE ("responses_count" integer, "final" jsonb, "agreed" boolean)
LANGUAGE sql IMMUTABLE PARALLEL SAFE ROWS 1
AS $$
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
	) q
$$;--> statement-breakpoint
CREATE TABLE "row_consensus" (
	"job_id" integer NOT NULL,
	"row_index" integer NOT NULL,
	"responses_count" integer NOT NULL,
	"final" jsonb,
	"agreed" boolean NOT NULL,
	CONSTRAINT "row_consensus_job_id_row_index_pk" PRIMARY KEY("job_id","row_index"),
	CONSTRAINT "row_consensus_row_index_non_negative" CHECK ("row_consensus"."row_index" >= 0),
	CONSTRAINT "row_consensus_responses_count_non_negative" CHECK ("row_consensus"."responses_count" >= 0)
);
--> statement-breakpoint
-- Hand-edited: the columns are added nullable, filled from the existing responses and
-- schemas, then made NOT NULL (as drizzle-kit generated them).
ALTER TABLE "annotation" ADD COLUMN "own_final" jsonb;--> statement-breakpoint
ALTER TABLE "annotation" ADD COLUMN "own_agreed" boolean;--> statement-breakpoint
UPDATE "annotation" a SET ("own_final", "own_agreed") = (
	SELECT c."final", c."agreed" FROM "annotation_consensus"(jsonb_build_array(a."data"), (
		SELECT ls."questions" FROM "annotation_job" j JOIN "label_schema" ls ON ls."project_id" = j."project_id"
		WHERE j."job_id" = a."job_id"), null) c);--> statement-breakpoint
ALTER TABLE "annotation" ALTER COLUMN "own_final" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "annotation" ALTER COLUMN "own_agreed" SET NOT NULL;--> statement-breakpoint
-- Hand-edited: every row with a response or a reviewer's decision gets its consensus.
INSERT INTO "row_consensus" ("job_id", "row_index", "responses_count", "final", "agreed")
	SELECT k."job_id", k."row_index", c."responses_count", c."final", c."agreed"
	FROM (SELECT "job_id", "row_index" FROM "annotation" UNION SELECT "job_id", "row_index" FROM "row_final") k
	JOIN "annotation_job" j ON j."job_id" = k."job_id"
	LEFT JOIN "label_schema" ls ON ls."project_id" = j."project_id"
	CROSS JOIN LATERAL "annotation_consensus"(
		coalesce((SELECT jsonb_agg(r."data" ORDER BY r."annotator_id") FROM "annotation" r
			WHERE r."job_id" = k."job_id" AND r."row_index" = k."row_index"), '[]'::jsonb),
		ls."questions",
		(SELECT rf."data" FROM "row_final" rf WHERE rf."job_id" = k."job_id" AND rf."row_index" = k."row_index")) c;--> statement-breakpoint
ALTER TABLE "row_consensus" ADD CONSTRAINT "row_consensus_job_id_annotation_job_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."annotation_job"("job_id") ON DELETE cascade ON UPDATE no action;
