-- The provider calls of one request, in order: which deployment, when, how each ended and why, usage and cost.
SELECT
  attempt, worker_id, route, deployment, provider, provider_model,
  toUnixTimestamp64Milli(started_at) AS started_at_ms,
  toUnixTimestamp64Milli(first_token_at) AS first_token_at_ms,
  toUnixTimestamp64Milli(finished_at) AS finished_at_ms,
  outcome, error_code, status, cache,
  input_tokens, output_tokens, usage_estimated, toString(cost) AS cost_usd, priced
FROM attempts FINAL
WHERE request_id = toUUID({id:String})
  AND ({team:String} = '' OR request_id IN (SELECT request_id FROM requests WHERE team = {team:String}))
ORDER BY started_at, attempt
