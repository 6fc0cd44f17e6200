-- Hand-written (save cost): a save stores its row's consensus through one PL/pgSQL
-- function instead of an INSERT … SELECT planned inside every save statement.
--
-- row_consensus_after_save(job, row, annotator, data, own_final, own_agreed, questions):
-- called by a save (src/features/annotations/annotations.service.ts) once its response
-- is written, with the response's data, its own consensus (annotation_consensus of that
-- one response, which the save stored in annotation.own_final / own_agreed) and the
-- project's questions. It stores the row's consensus over the other annotators'
-- committed responses and this one, with the reviewer's decision: the same
-- annotation_consensus call the statement made before. When the row has no other
-- response and no decision, that consensus is the response's own with a count of one
-- (annotation_consensus of a one-element array and no decision, exactly what own_final
-- was computed as), so the function stores that without computing it again: the first
-- annotator's save, and every save in a job of one annotator per row.
--
-- Why a function: the INSERT … SELECT with its three sub-selects took about 0.5 ms of a
-- save's main statement on PostgreSQL 15 (parse, plan and run; BENCHMARKS.md), the call
-- about 0.25 ms less. PL/pgSQL prepares its statements once per connection.
--
-- Visibility: it is VOLATILE, so each of its statements takes a fresh snapshot (READ
-- COMMITTED). The save's lock statement ahead of it holds the job's row lock, so that
-- snapshot holds every response committed by the job's earlier writers, as the
-- statement's own did. It reads only other annotators' responses, so whether it sees
-- the save's own write does not matter.
CREATE FUNCTION "row_consensus_after_save"("saved_job_id" integer, "saved_row_index" integer, "saved_annotator_id" integer,
	"saved_data" jsonb, "saved_own_final" jsonb, "saved_own_agreed" boolean, "questions" jsonb)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $$
declare
	others jsonb;
	decision jsonb;
begin
	select jsonb_agg(cr.data order by cr.annotator_id) into others from annotation cr
		where cr.job_id = saved_job_id and cr.row_index = saved_row_index and cr.annotator_id <> saved_annotator_id;
	select rf.data into decision from row_final rf where rf.job_id = saved_job_id and rf.row_index = saved_row_index;
	if others is null and decision is null then
		insert into row_consensus (job_id, row_index, responses_count, final, agreed)
		values (saved_job_id, saved_row_index, 1, saved_own_final, saved_own_agreed)
		on conflict (job_id, row_index) do update
			set responses_count = excluded.responses_count, final = excluded.final, agreed = excluded.agreed;
	else
		insert into row_consensus (job_id, row_index, responses_count, final, agreed)
		select saved_job_id, saved_row_index, c.responses_count, c.final, c.agreed
		from annotation_consensus(coalesce(others, '[]'::jsonb) || jsonb_build_array(saved_data), questions, decision) c
		on conflict (job_id, row_index) do update
			set responses_count = excluded.responses_count, final = excluded.final, agreed = excluded.agreed;
	end if;
end
$$;
