/**
 * The annotation job status machine: the one table that the services' guards, the 409
 * details and the OpenAPI descriptions are all generated from.
 *
 * not_started → in_progress → submitted → reviewed, and a rejected review sends a
 * submitted job back to in_progress. `reviewed` is final: an approved job's annotations
 * are the delivered result (exports read them), so nothing moves it again.
 *
 * Each move names who may make it. "annotator" / "reviewer" mean an assignment on the
 * job in that role (qc counts as a reviewer); "manager" is the project's pm; a platform
 * admin may make every move.
 */
import { annotationJobStatus } from "../../db/schema/enums.ts";

export const JOB_STATUSES = annotationJobStatus.enumValues;
export type JobStatus = (typeof JOB_STATUSES)[number];

export type JobActor = "annotator" | "reviewer" | "qc" | "manager";

export type JobTransition = {
  /** The verb, also the audit action `annotation_job.<name>`. */
  name: "start" | "submit" | "approve" | "approve_to_qc" | "qc_approve" | "reject" | "qc_reject";
  from: JobStatus;
  to: JobStatus;
  /** What makes the move: a PATCH of `status`, a side effect of saving, or a review. */
  via: string;
  /** Whether `PATCH /annotation-jobs/{job_id}` `{status}` may request it. */
  patchable: boolean;
  by: readonly JobActor[];
  condition?: string;
};

export const JOB_TRANSITIONS: readonly JobTransition[] = [
  {
    name: "start",
    from: "not_started",
    to: "in_progress",
    via: "the first annotation saved on the job, or `PATCH {status: in_progress}`",
    patchable: true,
    by: ["annotator", "manager"],
  },
  {
    name: "submit",
    from: "in_progress",
    to: "submitted",
    via: "`PATCH {status: submitted}`",
    patchable: true,
    by: ["annotator"],
    condition:
      "the submitting annotator has a response for every row of the job's range; each annotator submits their own work and the job " +
      "moves once `annotations_per_row` of them have (before that the PATCH records the submission and the job stays in_progress); " +
      "after a rejection that sent rows back, the annotator has saved each of those rows again",
  },
  {
    name: "approve",
    from: "submitted",
    to: "reviewed",
    via: "`POST /annotation-jobs/{job_id}/reviews {status: approved}`",
    patchable: false,
    by: ["reviewer", "manager"],
    condition: "the project's `qc_sample_rate` is 0 and no row of the job has a rejected verdict (`PUT …/items/{row_index}/review`)",
  },
  {
    name: "approve_to_qc",
    from: "submitted",
    to: "awaiting_qc",
    via: "`POST /annotation-jobs/{job_id}/reviews {status: approved}`",
    patchable: false,
    by: ["reviewer", "manager"],
    condition: "the project's `qc_sample_rate` is above 0 and no row is rejected; the job freezes the rate, and with it its QC sample " +
      "(`GET /annotation-jobs/{job_id}/qc-sample`)",
  },
  {
    name: "qc_approve",
    from: "awaiting_qc",
    to: "reviewed",
    via: "`POST /annotation-jobs/{job_id}/reviews {status: approved}`",
    patchable: false,
    by: ["qc", "manager"],
    condition: "QC accepted every row of the sample (`PUT …/items/{row_index}/review` while the job awaits QC) and no row is rejected",
  },
  {
    name: "reject",
    from: "submitted",
    to: "in_progress",
    via: "`POST /annotation-jobs/{job_id}/reviews {status: rejected, comments}`",
    patchable: false,
    by: ["reviewer", "manager"],
    condition: "the review carries comments saying what to fix. Only the rows with a rejected verdict go back when there are any " +
      "(the others stay as they are; accepted rows are final); without any, every row not accepted does",
  },
  {
    name: "qc_reject",
    from: "awaiting_qc",
    to: "in_progress",
    via: "`POST /annotation-jobs/{job_id}/reviews {status: rejected, comments}`",
    patchable: false,
    by: ["qc", "manager"],
    condition: "the review carries comments; rows go back as with a reviewer's rejection",
  },
];

/**
 * Project statuses that the first started job moves to in_progress: work has begun,
 * whatever the project said before. `completed` reopens (new jobs were cut after
 * completion); `archived` projects take no new jobs, so they never get here.
 */
export const PROJECT_STATUSES_STARTED_BY_WORK = ["draft", "ready_for_annotation", "completed"] as const;

export function transitionsFrom(status: JobStatus): readonly JobTransition[] {
  return JOB_TRANSITIONS.filter((transition) => transition.from === status);
}

export function findTransition(from: JobStatus, to: JobStatus): JobTransition | undefined {
  return JOB_TRANSITIONS.find((transition) => transition.from === from && transition.to === to);
}

/** The move a `PATCH {status: to}` requests (each status is reached by at most one patchable move). */
export function patchMoveTo(to: JobStatus): JobTransition | undefined {
  return JOB_TRANSITIONS.find((transition) => transition.patchable && transition.to === to);
}

export function transitionNamed(name: JobTransition["name"]): JobTransition {
  const transition = JOB_TRANSITIONS.find((candidate) => candidate.name === name);
  if (!transition) throw new Error(`no job transition ${name}`);
  return transition;
}

const ACTOR_NAMES: Record<JobActor, string> = {
  annotator: "an assigned annotator",
  reviewer: "an assigned reviewer or qc",
  qc: "an assigned qc",
  manager: "the project's pm",
};

/** "an assigned annotator or a platform admin", "…, the project's pm or a platform admin". */
export function describeActors(actors: readonly JobActor[]): string {
  const names = actors.map((actor) => ACTOR_NAMES[actor]);
  return `${names.join(", ")} or a platform admin`;
}

function describeMove(transition: JobTransition): string {
  return `\`${transition.to}\` (${transition.name}: ${transition.via}${transition.condition ? `; only when ${transition.condition}` : ""})`;
}

/** The 409 detail for a move the machine does not allow: the legal moves from where the job is. */
export function illegalMoveDetail(jobId: number, from: JobStatus, to: JobStatus): string {
  const legal = transitionsFrom(from);
  const moves = legal.length === 0
    ? `${from} is final: no moves are allowed from it`
    : `the legal moves from ${from} are ${legal.map(describeMove).join("; ")}`;
  const requested = findTransition(from, to);
  if (requested && !requested.patchable) {
    return `Job ${jobId} cannot move from ${from} to ${to} with PATCH; that move is made by ${requested.via}.`;
  }
  return `Job ${jobId} cannot move from ${from} to ${to}; ${moves}.`;
}

/** The `status` field's OpenAPI description, so the reference cannot drift from the table. */
export function describeJobStatusMachine(): string {
  const lines = JOB_TRANSITIONS.map((transition) =>
    `- \`${transition.from}\` → \`${transition.to}\` (**${transition.name}**): ${transition.via}; by ${describeActors(transition.by)}` +
    (transition.condition ? `; only when ${transition.condition}` : "") +
    ".",
  );
  return [
    "Job status. New jobs start as `not_started`. The moves (anything else is 409, naming the legal moves):",
    ...lines,
    "- `reviewed` is final.",
    `Starting a job moves its project to \`in_progress\` when the project is ${PROJECT_STATUSES_STARTED_BY_WORK.map((status) => `\`${status}\``).join(", ").replace(/, ([^,]+)$/, " or $1")}.`,
  ].join("\n");
}
