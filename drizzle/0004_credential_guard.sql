-- Immediate revocation. Every database call of an authenticated request runs this first,
-- in the same transaction and the same round trip as the request's own statements
-- (src/db/credential-guard.ts). It raises SQLSTATE GS401 unless the caller is still
-- allowed in: the user is live and active, the organization is live, and either the
-- access token was issued under the user's current credentials_version or the API token
-- is unrevoked and unexpired. Raising aborts the transaction, so nothing is written.
CREATE OR REPLACE FUNCTION credential_guard(p_user_id integer, p_credentials_version integer, p_api_token_id integer)
RETURNS void
LANGUAGE plpgsql
STABLE
AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1
    FROM "user" u
    JOIN organization o ON o.org_id = u.org_id
    WHERE u.user_id = p_user_id
      AND u.deleted_at IS NULL
      AND u.is_active
      AND o.deleted_at IS NULL
      AND (p_credentials_version IS NULL OR u.credentials_version = p_credentials_version)
      AND (p_api_token_id IS NULL OR EXISTS (
        SELECT 1 FROM api_token t
        WHERE t.token_id = p_api_token_id AND t.user_id = u.user_id AND t.revoked_at IS NULL
          AND (t.expires_at IS NULL OR t.expires_at > now())
      ))
  ) THEN
    RAISE EXCEPTION 'credential revoked' USING ERRCODE = 'GS401';
  END IF;
END;
$$;
