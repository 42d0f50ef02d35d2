-- Each deployment's provider calls over [from, to): how many, failed, refused with 429, latency and time to first token p50/p95.
SELECT
  a.deployment AS deployment_name,
  count() AS calls,
  countIf(a.outcome = 'failed') AS failed_calls,
  countIf(a.status = 429) AS rate_limited_calls,
  arrayMap(x -> round(x, 1), quantiles(0.5, 0.95)(dateDiff('millisecond', a.started_at, a.finished_at))) AS latency_ms,
  arrayMap(x -> round(x, 1), quantilesIf(0.5, 0.95)(dateDiff('millisecond', a.started_at, a.first_token_at), a.first_token_at IS NOT NULL)) AS first_token_ms
FROM attempts AS a FINAL
WHERE a.finished_at >= {from:DateTime64(3)} AND a.finished_at < {to:DateTime64(3)}
  -- No call lasts an hour: this bound lets the received_at index skip every older granule.
  AND a.received_at >= {from:DateTime64(3)} - INTERVAL 1 HOUR
  AND a.deployment != ''
  AND ({team:String} = '' OR a.request_id IN (
    SELECT request_id FROM requests WHERE team = {team:String}
      AND received_at >= {from:DateTime64(3)} - INTERVAL 1 HOUR))
GROUP BY a.deployment
ORDER BY a.deployment
