-- API tokens authenticate from a per-isolate cache of their principal (roles and
-- permissions as the lookup found them), so the guard now also tells a stale principal
-- apart from a dead credential: for an API token whose owner's credentials_version moved
-- on (a role change), it raises GS409 and the Worker looks the token up afresh and runs
-- the request again; a revoked, expired or orphaned token still raises GS401. It also
-- keeps the token's last_used_at, to the minute, which the lookup used to do.
CREATE OR REPLACE FUNCTION credential_guard(p_user_id integer, p_credentials_version integer, p_api_token_id integer)
RETURNS void
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
  current_version integer;
BEGIN
  SELECT u.credentials_version INTO current_version
  FROM "user" u
  JOIN organization o ON o.org_id = u.org_id
  WHERE u.user_id = p_user_id
    AND u.deleted_at IS NULL
    AND u.is_active
    AND o.deleted_at IS NULL
    AND (p_api_token_id IS NULL OR EXISTS (
      SELECT 1 FROM api_token t
      WHERE t.token_id = p_api_token_id AND t.user_id = u.user_id AND t.revoked_at IS NULL
        AND (t.expires_at IS NULL OR t.expires_at > now())
    ));
  IF NOT FOUND THEN
    RAISE EXCEPTION 'credential revoked' USING ERRCODE = 'GS401';
  END IF;
  IF p_credentials_version IS NOT NULL AND current_version <> p_credentials_version THEN
    IF p_api_token_id IS NULL THEN
      RAISE EXCEPTION 'credential revoked' USING ERRCODE = 'GS401';
    END IF;
    RAISE EXCEPTION 'principal stale' USING ERRCODE = 'GS409';
  END IF;
  IF p_api_token_id IS NOT NULL THEN
    UPDATE api_token SET last_used_at = now()
    WHERE token_id = p_api_token_id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
  END IF;
END;
$$;
