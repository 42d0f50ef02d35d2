-- One page of finished requests, newest first, filtered (empty or 0 means any) and after the page that ended at (before_at, before_id).
SELECT
  toString(request_id) AS request_id,
  toUnixTimestamp64Milli(received_at) AS received_at_ms,
  key_id, team, end_user, tags, model_requested, provider, provider_model, priority, inbound_api, stream,
  cache, outcome, status, error_code,
  input_tokens, output_tokens, toString(cost) AS cost_usd, priced,
  duration_ms, ttft_ms
FROM requests AS r
WHERE r.stage = 'finished'
  AND received_at >= {from:DateTime64(3)} AND received_at < {to:DateTime64(3)}
  AND (r.received_at, toString(r.request_id)) < ({before_at:DateTime64(3)}, {before_id:String})
  AND ({team:String} = '' OR team = {team:String})
  AND ({key:String} = '' OR key_id = {key:String})
  AND ({model:String} = '' OR model_requested = {model:String})
  AND ({deployment:String} = '' OR concat(provider, '/', provider_model) = {deployment:String})
  AND ({priority:String} = '' OR priority = {priority:String})
  AND ({outcome:String} = '' OR outcome = {outcome:String})
  AND ({status:UInt16} = 0 OR status = {status:UInt16})
  AND ({cache:String} = '' OR cache = {cache:String})
  AND ifNull(duration_ms, 0) >= {min_duration_ms:Float64}
  AND ifNull(ttft_ms, 0) >= {min_ttft_ms:Float64}
  AND input_tokens + output_tokens >= {min_tokens:UInt32}
  AND r.cost >= toDecimal64({min_cost:Float64}, 9)
  AND ({q:String} = ''
    OR startsWith(toString(r.request_id), {q:String})
    OR end_user = {q:String}
    OR key_id = {q:String}
    OR has(mapValues(tags), {q:String}))
  AND ({failed_over:UInt8} = 0 OR r.request_id IN (
    SELECT request_id FROM attempts
    WHERE received_at >= {from:DateTime64(3)} AND received_at < {to:DateTime64(3)} AND deployment != ''
    GROUP BY request_id HAVING count() > 1))
ORDER BY r.received_at DESC, toString(r.request_id) DESC
LIMIT {limit:UInt32}
