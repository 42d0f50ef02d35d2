-- Spend per day, key, team and model: requests, tokens, USD paid and USD the cache saved.
SELECT
  toDate(minute) AS day,
  key_id,
  team,
  model_requested,
  sum(requests) AS requests,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cost) AS cost_usd,
  sum(cost_saved) AS saved_usd
FROM requests_per_minute
WHERE minute >= toStartOfMinute({from:DateTime64(3)}) AND minute < {to:DateTime64(3)}
GROUP BY day, key_id, team, model_requested
ORDER BY day, cost_usd DESC, key_id, model_requested
