-- Request latency and time to first token by the provider that answered, p50/p95/p99 in ms (t-digest estimates merged from the per-minute rollups).
SELECT
  provider,
  requests,
  round(duration[1], 1) AS duration_p50_ms,
  round(duration[2], 1) AS duration_p95_ms,
  round(duration[3], 1) AS duration_p99_ms,
  round(ttft[1], 1) AS ttft_p50_ms,
  round(ttft[2], 1) AS ttft_p95_ms,
  round(ttft[3], 1) AS ttft_p99_ms
FROM (
  SELECT
    provider,
    sum(requests) AS requests,
    quantilesTDigestMerge(0.5, 0.95, 0.99)(duration_ms) AS duration,
    quantilesTDigestMerge(0.5, 0.95, 0.99)(ttft_ms) AS ttft
  FROM requests_per_minute
  WHERE minute >= toStartOfMinute({from:DateTime64(3)}) AND minute < {to:DateTime64(3)} AND provider != ''
  GROUP BY provider
)
ORDER BY provider
