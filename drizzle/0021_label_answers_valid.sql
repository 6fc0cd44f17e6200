-- Hand-written (label schema answers in SQL): whether annotation `data` answers a label
-- schema, for the one save that cannot check it in TypeScript first: an isolate that
-- has not yet seen the project's current schema (src/features/label-schema/answer-guard.ts).
-- The saving statement uses this verdict only then, against the schema it reads itself,
-- so even that save stays one round trip. It mirrors checkAnswers in
-- src/features/label-schema/questions.ts rule for rule (tests/label-schema-sql.test.ts
-- runs both over the same answers); a change to either is a change to both.
--
-- label_answer_valid(question, answer, row_data): `answer` is not JSON null (null leaves
-- a question unanswered and is checked by the caller). Integers are JavaScript's safe
-- integers; text lengths are code points; a span's end must lie within the row's cell
-- `field`, a string, counted in UTF-16 code units.
CREATE FUNCTION "label_answer_valid"("question" jsonb, "answer" jsonb, "row_data" jsonb)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
declare
	options jsonb := coalesce(question -> 'options', '[]'::jsonb);
	kind text := jsonb_typeof(answer);
	amount numeric;
	item jsonb;
	span_start numeric;
	span_end numeric;
	reach numeric := 0;
	cell text;
begin
	-- Every cast below comes after the test that makes it safe, in statements of its own:
	-- SQL does not promise to evaluate the operands of AND and OR in order.
	case question ->> 'type'
	when 'label' then
		return kind = 'string' and options @> jsonb_build_array(answer);
	when 'multi_label', 'ranking' then
		if kind <> 'array' then
			return false;
		end if;
		if exists (select 1 from jsonb_array_elements(answer) e(v) where jsonb_typeof(e.v) <> 'string' or not options @> jsonb_build_array(e.v))
			or (select count(distinct e.v) <> count(*) from jsonb_array_elements(answer) e(v)) then
			return false;
		end if;
		-- A ranking is a permutation: every option, each once.
		return question ->> 'type' = 'multi_label' or jsonb_array_length(answer) = jsonb_array_length(options);
	when 'rating', 'number' then
		if kind <> 'number' then
			return false;
		end if;
		amount := answer #>> '{}';
		if question ->> 'type' = 'rating' and amount <> trunc(amount) then
			return false;
		end if;
		return (question -> 'min' is null or amount >= (question ->> 'min')::numeric)
			and (question -> 'max' is null or amount <= (question ->> 'max')::numeric);
	when 'text' then
		return kind = 'string' and char_length(answer #>> '{}') <= 10000;
	when 'span' then
		if kind <> 'array' then
			return false;
		end if;
		for item in select e.v from jsonb_array_elements(answer) e(v) loop
			if jsonb_typeof(item) <> 'object' then
				return false;
			end if;
			if (select count(*) from jsonb_object_keys(item)) <> 3
				or jsonb_typeof(item -> 'start') is distinct from 'number' or jsonb_typeof(item -> 'end') is distinct from 'number'
				or jsonb_typeof(item -> 'label') is distinct from 'string' then
				return false;
			end if;
			span_start := item ->> 'start';
			span_end := item ->> 'end';
			if span_start <> trunc(span_start) or span_end <> trunc(span_end) or span_start < 0 or span_start >= span_end or span_end > 2147483647
				or not options @> jsonb_build_array(item -> 'label') then
				return false;
			end if;
			reach := greatest(reach, span_end);
		end loop;
		if reach = 0 then
			return true;
		end if;
		if jsonb_typeof(row_data -> (question ->> 'field')) is distinct from 'string' then
			return false;
		end if;
		cell := row_data ->> (question ->> 'field');
		-- Characters outside the Basic Multilingual Plane are two UTF-16 code units.
		return char_length(cell) + char_length(regexp_replace(cell, '[^\U00010000-\U0010FFFF]', '', 'g')) >= reach;
	else
		return false;
	end case;
end
$$;
--> statement-breakpoint
-- label_answers_valid(questions, data, row_data): every key of `data` names a question
-- and every answer that is not null is valid; no schema (null) or one without questions
-- accepts any object.
CREATE FUNCTION "label_answers_valid"("questions" jsonb, "data" jsonb, "row_data" jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
	select coalesce(jsonb_array_length(questions), 0) = 0 or not exists (
		select 1 from jsonb_each(data) d
		left join lateral (select s.q from jsonb_array_elements(questions) s(q) where s.q ->> 'name' = d.key limit 1) q on true
		where q.q is null or (jsonb_typeof(d.value) <> 'null' and not label_answer_valid(q.q, d.value, row_data))
	)
$$;
