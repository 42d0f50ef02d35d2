-- Provider calls that failed, by provider: the error rate and its most frequent error codes.
SELECT
  provider,
  count() AS calls,
  countIf(outcome = 'failed') AS failed,
  round(failed / calls, 4) AS error_rate,
  topKIf(3)(error_code, outcome = 'failed') AS top_errors
FROM attempts
WHERE finished_at >= {from:DateTime64(3)} AND finished_at < {to:DateTime64(3)} AND provider != ''
GROUP BY provider
ORDER BY error_rate DESC, provider
