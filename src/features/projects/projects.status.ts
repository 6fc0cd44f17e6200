/**
 * The project status machine: the one table the PATCH check, the 409's detail and the
 * OpenAPI description of `status` are all generated from.
 *
 * The contract's path is draft → ready_for_annotation → in_progress → completed →
 * archived. The extra moves, and why:
 * - ready_for_annotation → draft: the client takes the project back to edit it before
 *   any work has started.
 * - draft / ready_for_annotation → archived: a project abandoned before work starts is
 *   shelved rather than deleted, so its files and history stay readable.
 * - completed → in_progress: reopening after the client finds problems in the results;
 *   completed_at is cleared and set again on the next completion.
 * - archived is final: there is no way out of it (start a new project instead).
 * Moving to the status a project already has is not a move: it changes nothing.
 */
import { projectStatus } from "../../db/schema/enums.ts";

export const PROJECT_STATUSES = projectStatus.enumValues;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const PROJECT_TRANSITIONS: Readonly<Record<ProjectStatus, readonly ProjectStatus[]>> = {
  draft: ["ready_for_annotation", "archived"],
  ready_for_annotation: ["in_progress", "draft", "archived"],
  in_progress: ["completed"],
  completed: ["archived", "in_progress"],
  archived: [],
};

export function allowedMoves(from: ProjectStatus): readonly ProjectStatus[] {
  return PROJECT_TRANSITIONS[from];
}

/** The statuses a project may be in for a move to `to` to be allowed. */
export function sourcesOf(to: ProjectStatus): ProjectStatus[] {
  return PROJECT_STATUSES.filter((from) => PROJECT_TRANSITIONS[from].includes(to));
}

export function illegalMoveDetail(from: ProjectStatus, to: ProjectStatus): string {
  const allowed = allowedMoves(from);
  const moves = allowed.length === 0 ? `${from} is final: no moves are allowed from it` : `allowed moves from ${from}: ${allowed.join(", ")}`;
  return `A project cannot move from ${from} to ${to}; ${moves}.`;
}

/** The status field's OpenAPI description, so the reference cannot drift from the table. */
export function describeTransitions(): string {
  const lines = PROJECT_STATUSES.map((from) => {
    const to = PROJECT_TRANSITIONS[from];
    return `- \`${from}\` → ${to.length === 0 ? "(final)" : to.map((status) => `\`${status}\``).join(", ")}`;
  });
  return [
    "Lifecycle status. New projects start as `draft`. Allowed moves (anything else is 409, naming the allowed moves):",
    ...lines,
    "Moving to `completed` sets `completed_at`; reopening (`completed` → `in_progress`) clears it.",
  ].join("\n");
}
