-- One request as its caller saw it, with its stored prompt and completion (empty unless the operator stores content).
SELECT
  toString(request_id) AS request_id,
  toUnixTimestamp64Milli(received_at) AS received_at_ms,
  toUnixTimestamp64Milli(first_token_at) AS first_token_at_ms,
  toUnixTimestamp64Milli(finished_at) AS finished_at_ms,
  key_id, team, end_user, tags, model_requested, provider, provider_model, priority, inbound_api, stream,
  cache, outcome, status, error_code,
  input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
  toString(cost) AS cost_usd, priced, toString(cost_saved) AS cost_saved_usd, batch_id,
  prompt, completion
FROM requests AS r FINAL
WHERE r.request_id = toUUID({id:String})
  AND ({team:String} = '' OR r.team = {team:String})
