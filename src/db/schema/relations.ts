/**
 * Relations for drizzle's relational queries (`db.query.project.findMany({ with: … })`).
 * They add no SQL constraints; the foreign keys live on the tables. Relation keys are
 * snake_case like the columns because they surface in results that become API bodies.
 * Where two foreign keys join the same pair of tables (project → user twice) only the
 * `one` side is declared, which keeps them unambiguous without relation names.
 */
import { relations } from "drizzle-orm";
import { annotation, annotationJob, annotationRevision, assignment, comment, review } from "./annotation.ts";
import { eventLog } from "./audit.ts";
import { exportedFile, exportLog } from "./exports.ts";
import { file, fileTable, fileTableRow, fileVersion, upload } from "./files.ts";
import { apiToken, organization, permission, refreshToken, role, rolePermission, user, userRole } from "./identity.ts";
import { project } from "./projects.ts";

export const organizationRelations = relations(organization, ({ many }) => ({
  users: many(user),
  projects: many(project),
}));

export const userRelations = relations(user, ({ one, many }) => ({
  organization: one(organization, { fields: [user.org_id], references: [organization.org_id] }),
  user_roles: many(userRole),
  api_tokens: many(apiToken),
  refresh_tokens: many(refreshToken),
}));

export const roleRelations = relations(role, ({ many }) => ({
  role_permissions: many(rolePermission),
  user_roles: many(userRole),
}));

export const permissionRelations = relations(permission, ({ many }) => ({
  role_permissions: many(rolePermission),
}));

export const rolePermissionRelations = relations(rolePermission, ({ one }) => ({
  role: one(role, { fields: [rolePermission.role_id], references: [role.role_id] }),
  permission: one(permission, { fields: [rolePermission.permission_id], references: [permission.permission_id] }),
}));

export const userRoleRelations = relations(userRole, ({ one }) => ({
  user: one(user, { fields: [userRole.user_id], references: [user.user_id] }),
  role: one(role, { fields: [userRole.role_id], references: [role.role_id] }),
}));

export const apiTokenRelations = relations(apiToken, ({ one }) => ({
  user: one(user, { fields: [apiToken.user_id], references: [user.user_id] }),
}));

export const refreshTokenRelations = relations(refreshToken, ({ one }) => ({
  user: one(user, { fields: [refreshToken.user_id], references: [user.user_id] }),
}));

export const projectRelations = relations(project, ({ one, many }) => ({
  organization: one(organization, { fields: [project.org_id], references: [organization.org_id] }),
  client_pm: one(user, { fields: [project.client_pm_id], references: [user.user_id] }),
  our_pm: one(user, { fields: [project.our_pm_id], references: [user.user_id] }),
  files: many(file),
  annotation_jobs: many(annotationJob),
  exports: many(exportLog),
}));

export const fileRelations = relations(file, ({ one, many }) => ({
  project: one(project, { fields: [file.project_id], references: [project.project_id] }),
  current_version: one(fileVersion, { fields: [file.current_version_id], references: [fileVersion.version_id] }),
  created_by_user: one(user, { fields: [file.created_by], references: [user.user_id] }),
  versions: many(fileVersion, { relationName: "file_versions" }),
}));

export const fileVersionRelations = relations(fileVersion, ({ one, many }) => ({
  file: one(file, { fields: [fileVersion.file_id], references: [file.file_id], relationName: "file_versions" }),
  uploaded_by_user: one(user, { fields: [fileVersion.uploaded_by], references: [user.user_id] }),
  tables: many(fileTable),
}));

export const fileTableRelations = relations(fileTable, ({ one, many }) => ({
  version: one(fileVersion, { fields: [fileTable.version_id], references: [fileVersion.version_id] }),
  rows: many(fileTableRow),
  annotation_jobs: many(annotationJob),
}));

export const fileTableRowRelations = relations(fileTableRow, ({ one }) => ({
  table: one(fileTable, { fields: [fileTableRow.table_id], references: [fileTable.table_id] }),
}));

export const uploadRelations = relations(upload, ({ one }) => ({
  project: one(project, { fields: [upload.project_id], references: [project.project_id] }),
  file: one(file, { fields: [upload.file_id], references: [file.file_id] }),
  version: one(fileVersion, { fields: [upload.version_id], references: [fileVersion.version_id] }),
}));

export const annotationJobRelations = relations(annotationJob, ({ one, many }) => ({
  project: one(project, { fields: [annotationJob.project_id], references: [project.project_id] }),
  table: one(fileTable, { fields: [annotationJob.table_id], references: [fileTable.table_id] }),
  created_by_user: one(user, { fields: [annotationJob.created_by], references: [user.user_id] }),
  assignments: many(assignment),
  annotations: many(annotation),
  reviews: many(review),
  comments: many(comment),
}));

export const assignmentRelations = relations(assignment, ({ one }) => ({
  job: one(annotationJob, { fields: [assignment.job_id], references: [annotationJob.job_id] }),
  user: one(user, { fields: [assignment.user_id], references: [user.user_id] }),
}));

export const annotationRelations = relations(annotation, ({ one, many }) => ({
  job: one(annotationJob, { fields: [annotation.job_id], references: [annotationJob.job_id] }),
  updated_by_user: one(user, { fields: [annotation.updated_by], references: [user.user_id] }),
  revisions: many(annotationRevision),
}));

export const annotationRevisionRelations = relations(annotationRevision, ({ one }) => ({
  annotation: one(annotation, {
    fields: [annotationRevision.job_id, annotationRevision.row_index, annotationRevision.annotator_id],
    references: [annotation.job_id, annotation.row_index, annotation.annotator_id],
  }),
  created_by_user: one(user, { fields: [annotationRevision.created_by], references: [user.user_id] }),
}));

export const reviewRelations = relations(review, ({ one }) => ({
  job: one(annotationJob, { fields: [review.job_id], references: [annotationJob.job_id] }),
  reviewer: one(user, { fields: [review.reviewer_id], references: [user.user_id] }),
}));

export const commentRelations = relations(comment, ({ one, many }) => ({
  job: one(annotationJob, { fields: [comment.job_id], references: [annotationJob.job_id] }),
  author: one(user, { fields: [comment.author_id], references: [user.user_id] }),
  parent: one(comment, {
    fields: [comment.parent_comment_id],
    references: [comment.comment_id],
    relationName: "comment_replies",
  }),
  replies: many(comment, { relationName: "comment_replies" }),
}));

export const eventLogRelations = relations(eventLog, ({ one }) => ({
  actor: one(user, { fields: [eventLog.actor_id], references: [user.user_id] }),
  organization: one(organization, { fields: [eventLog.org_id], references: [organization.org_id] }),
  project: one(project, { fields: [eventLog.project_id], references: [project.project_id] }),
}));

export const exportLogRelations = relations(exportLog, ({ one, many }) => ({
  project: one(project, { fields: [exportLog.project_id], references: [project.project_id] }),
  requested_by_user: one(user, { fields: [exportLog.requested_by], references: [user.user_id] }),
  files: many(exportedFile),
}));

export const exportedFileRelations = relations(exportedFile, ({ one }) => ({
  export: one(exportLog, { fields: [exportedFile.export_id], references: [exportLog.export_id] }),
  file_version: one(fileVersion, { fields: [exportedFile.file_version_id], references: [fileVersion.version_id] }),
}));
