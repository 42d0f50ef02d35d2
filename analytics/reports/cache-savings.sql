-- The answer cache per model: requests it was asked about, hits (exact, semantic, coalesced), hit rate, and the USD hits saved.
SELECT
  model_requested,
  sum(requests) AS requests,
  sumIf(rollup.requests, cache IN ('hit', 'semantic-hit', 'coalesced')) AS hits,
  round(hits / nullIf(sumIf(rollup.requests, cache NOT IN ('bypass', 'unavailable')), 0), 4) AS hit_rate,
  sumIf(rollup.requests, cache = 'unavailable') AS unavailable,
  sum(cost_saved) AS saved_usd
FROM requests_per_minute AS rollup
WHERE minute >= toStartOfMinute({from:DateTime64(3)}) AND minute < {to:DateTime64(3)} AND cache != ''
GROUP BY model_requested
ORDER BY saved_usd DESC, model_requested
