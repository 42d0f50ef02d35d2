-- The audit trail: admin actions and refused or changed calls, newest first, with who, from where and why.
-- FINAL: an entry stored twice (a redelivered batch whose insert token differed) shows once.
SELECT
  at,
  actor_kind,
  actor_key_id,
  actor_team,
  action,
  target,
  outcome,
  reason,
  source_ip,
  user_agent,
  request_id,
  details
FROM audit_log FINAL
WHERE at >= {from:DateTime64(3)} AND at < {to:DateTime64(3)}
ORDER BY at DESC, event_id
LIMIT 10000
