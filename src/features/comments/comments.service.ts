import { sql } from "drizzle-orm";
import { auditInsert } from "../../lib/audit.ts";
import { ApiError } from "../../lib/errors.ts";
import { encodeCursor, type Page } from "../../lib/pagination.ts";
import type { AuthenticatedContext } from "../../lib/service-context.ts";
import { isoTimestamp } from "../../lib/sql-values.ts";
import { runWrite } from "../../lib/write.ts";
import { can } from "../auth/principal.ts";
import { checksCte, firstFailure, idAfter, jobNotFound, jobScope, jobScopedRows, type Check, type JobScopeRow } from "../annotation-jobs/job-scope.ts";

type CommentRow = {
  comment_id: number;
  job_id: number;
  parent_comment_id: number | null;
  author_id: number | null;
  body: string;
  created_at: string;
  updated_at: string;
};

function present(row: CommentRow) {
  return {
    comment_id: row.comment_id,
    job_id: row.job_id,
    parent_comment_id: row.parent_comment_id,
    author_id: row.author_id,
    body: row.body,
    created_at: isoTimestamp(row.created_at),
    updated_at: isoTimestamp(row.updated_at),
  };
}

export type CommentView = ReturnType<typeof present>;

/** One statement: the job (visible), the parent (a live comment of the same job), the insert and its audit row. */
export async function createComment(
  ctx: AuthenticatedContext,
  jobId: number,
  input: { body: string; parent_comment_id?: number | null | undefined },
): Promise<CommentView> {
  const parentId = input.parent_comment_id ?? null;
  const checks: Check<JobScopeRow>[] = [
    {
      name: "may_comment",
      holds: sql`${can(ctx.principal, "comment:write")}::boolean`,
      fail: () => new ApiError("forbidden", "Your role does not allow commenting on jobs (comment:write)."),
    },
    {
      name: "parent",
      holds: parentId === null
        ? sql`true`
        : sql`exists (select 1 from comment parent where parent.comment_id = ${parentId}::integer
            and parent.job_id = scope.job_id and parent.deleted_at is null)`,
      fail: () =>
        new ApiError("validation_failed", "The request body is invalid.", {
          errors: [{ path: "body.parent_comment_id", message: `must be a comment of job ${jobId}` }],
        }),
    },
  ];
  const [rows = []] = await runWrite(ctx, [
    sql`with ${jobScope(ctx, jobId)},
      ${checksCte(checks)},
      created as (
        insert into comment (job_id, parent_comment_id, author_id, body)
        select checks.job_id, ${parentId}::integer, ${ctx.principal.user_id}::integer, ${input.body}::text
        from checks where checks.passed
        returning *
      ), audited as (
        ${auditInsert(ctx, {
          action: "comment.create",
          entity_type: "comment",
          entity_id: sql`created.comment_id`,
          org_id: sql`checks.org_id`,
          project_id: sql`checks.project_id`,
          after: sql`jsonb_build_object('job_id', created.job_id, 'parent_comment_id', created.parent_comment_id, 'body', created.body)`,
        }, sql`created cross join checks`)}
      )
      select checks.*, (select row_to_json(c) from (
          select created.comment_id, created.job_id, created.parent_comment_id, created.author_id, created.body,
            created.created_at::text as created_at, created.updated_at::text as updated_at from created) c) as comment
      from checks`,
  ]);
  const row = rows[0] as (JobScopeRow & Record<string, unknown> & { comment: CommentRow | null }) | undefined;
  if (!row) throw jobNotFound(jobId);
  const failure = firstFailure(row, checks);
  if (failure) throw failure;
  return present(row.comment!);
}

export async function listComments(
  ctx: AuthenticatedContext,
  jobId: number,
  query: { limit: number; cursor?: string | undefined; parent_comment_id?: number | undefined },
): Promise<Page<CommentView>> {
  const after = idAfter(query.cursor, "comment_id");
  const listed = await jobScopedRows<CommentRow>(
    ctx,
    jobId,
    sql`select c.comment_id, c.job_id, c.parent_comment_id, c.author_id, c.body,
        c.created_at::text as created_at, c.updated_at::text as updated_at
      from comment c
      where c.job_id = scope.job_id and c.deleted_at is null
        ${query.parent_comment_id === undefined ? sql`` : sql`and c.parent_comment_id = ${query.parent_comment_id}::integer`}
        ${after === null ? sql`` : sql`and c.comment_id > ${after}::integer`}
      order by c.comment_id limit ${query.limit + 1}`,
    "comment_id",
    sql`listed.comment_id`,
  );
  if (!listed) throw jobNotFound(jobId);
  if (!can(ctx.principal, "comment:read")) throw new ApiError("forbidden", "Your role does not allow reading job comments (comment:read).");
  const page = listed.rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map(present),
    next_cursor: listed.rows.length > query.limit && last ? encodeCursor("comment_id", null, last.comment_id) : null,
  };
}
