-- One page of the audit log, newest first, filtered (empty means any; an action by its start, e.g. "team.") and after the page that ended at (before_at, before_id).
-- access: admin
-- FINAL: an entry stored twice (a redelivered batch whose insert token differed) shows once.
SELECT
  toUnixTimestamp64Milli(a.at) AS at_ms,
  toString(a.event_id) AS id,
  actor_kind, actor_key_id, actor_team, action, target, outcome, reason, source_ip, user_agent, request_id,
  details
FROM audit_log AS a FINAL
WHERE a.at >= {from:DateTime64(3)} AND a.at < {to:DateTime64(3)}
  AND (a.at, toString(a.event_id)) < ({before_at:DateTime64(3)}, {before_id:String})
  AND ({team:String} = '' OR actor_team = {team:String})
  AND ({key:String} = '' OR actor_key_id = {key:String})
  AND startsWith(action, {action:String})
  AND ({target:String} = '' OR target = {target:String})
  AND ({outcome:String} = '' OR outcome = {outcome:String})
ORDER BY a.at DESC, toString(a.event_id) DESC
LIMIT {limit:UInt32}
