-- Finished requests per time step over [from, to), split by model, deployment (provider/model) or team, with the range's totals (WITH TOTALS: the same scan): requests, errors, latency and time to first token p50/p95/p99, tokens, cost, cache hits.
SELECT
  toUnixTimestamp(toStartOfInterval(r.minute, toIntervalSecond({step:UInt32}))) AS at,
  multiIf(
    {split:String} = 'model', r.model_requested,
    {split:String} = 'deployment', if(r.provider = '', '(none)', concat(r.provider, '/', r.provider_model)),
    {split:String} = 'team', if(r.team = '', '(no team)', r.team),
    'all'
  ) AS series,
  sum(r.requests) AS total_requests,
  sum(r.errors) AS total_errors,
  -- Hits and lookups as the Cache view counts them: bypassed and unavailable lookups left out.
  sumIf(r.requests, r.cache IN ('hit', 'semantic-hit', 'coalesced')) AS cache_hits,
  sumIf(r.requests, r.cache NOT IN ('', 'bypass', 'unavailable')) AS cacheable,
  sum(r.input_tokens) AS total_input_tokens,
  sum(r.output_tokens) AS total_output_tokens,
  toFloat64(sum(r.cost)) AS total_cost,
  toString(sum(r.cost_saved)) AS total_cost_saved,
  arrayMap(x -> round(x, 1), quantilesTDigestMerge(0.5, 0.95, 0.99)(r.duration_ms)) AS duration_quantiles,
  arrayMap(x -> round(x, 1), quantilesTDigestMerge(0.5, 0.95, 0.99)(r.ttft_ms)) AS ttft_quantiles
FROM requests_per_minute AS r
WHERE r.minute >= toStartOfMinute({from:DateTime64(3)}) AND r.minute < {to:DateTime64(3)}
  AND ({team:String} = '' OR r.team = {team:String})
GROUP BY at, series WITH TOTALS
ORDER BY at, series
