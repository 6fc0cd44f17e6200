/**
 * What ends a user's standing credentials, as SQL that rides in the statement making the
 * change: access tokens die through `credentials_version` (bumped in the same UPDATE of
 * the user row, see src/db/credential-guard.ts), refresh tokens and, for delete,
 * deactivation and password change, API tokens are revoked here.
 */
import { sql, type SQL } from "drizzle-orm";

/** The SET assignment that invalidates every access token issued so far (alias of the user row). */
export function bumpCredentialsVersion(alias: string): SQL {
  return sql.raw(`credentials_version = ${alias}.credentials_version + 1`);
}

export type Revocation = {
  /** CTEs named `sessions` and (with apiTokens) `api_tokens`, to follow other CTEs after a comma. */
  ctes: SQL;
  /** A jsonb object counting what was revoked, for the audit event's `after`. */
  summary: SQL;
};

/**
 * Revokes the refresh tokens (and API tokens) of the users `userIds` selects, except the
 * refresh-token family `keepFamily` (the caller's own session when they change their own
 * password).
 */
export function revokeCredentials(userIds: SQL, options: { apiTokens: boolean; keepFamily?: string | null }): Revocation {
  const keep = options.keepFamily ? sql`and t.family_id <> ${options.keepFamily}::uuid` : sql``;
  const sessions = sql`sessions as (
      update refresh_token t set revoked_at = now()
      where t.user_id in (${userIds}) and t.revoked_at is null ${keep}
      returning t.token_id
    )`;
  if (!options.apiTokens) {
    return { ctes: sessions, summary: sql`jsonb_build_object('sessions_revoked', (select count(*) from sessions))` };
  }
  return {
    ctes: sql`${sessions}, api_tokens as (
      update api_token t set revoked_at = now()
      where t.user_id in (${userIds}) and t.revoked_at is null
      returning t.token_id
    )`,
    summary: sql`jsonb_build_object('sessions_revoked', (select count(*) from sessions), 'api_tokens_revoked', (select count(*) from api_tokens))`,
  };
}
