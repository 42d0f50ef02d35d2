-- Spend per batch job: its finished lines (succeeded, and failed: any other outcome), tokens, USD, and when its first and last lines finished.
-- From `requests`, not `attempts`: the coordinator records a batch line's request event once (its
-- first result wins), so a line that ran twice after a worker or coordinator died counts once, and
-- the sums are what the batch cost its key, as spend-by-key counts it. `attempts` holds every
-- provider call instead, failed ones and a rerun's too: what providers bill (spend-by-provider),
-- which can be more. No rollup has batch_id, so this reads the rows: FINAL collapses a request's
-- `received` row into its `finished` one, and an event stored twice into one row. The filters hold
-- alike for both stages (and the finished row is the one FINAL keeps), so the answer is the same
-- whether ClickHouse applies them before or after FINAL. Lines count by when they were received,
-- the table's order key, as the rollup reports count requests.
SELECT
  batch_id,
  key_id,
  count() AS requests,
  countIf(outcome = 'completed') AS succeeded,
  countIf(outcome != 'completed') AS failed,
  sum(input_tokens) AS input_tokens,
  sum(output_tokens) AS output_tokens,
  sum(cost) AS cost_usd,
  min(finished_at) AS first_finished_at,
  max(finished_at) AS last_finished_at
FROM requests FINAL
WHERE received_at >= {from:DateTime64(3)} AND received_at < {to:DateTime64(3)}
  AND stage = 'finished' AND batch_id != ''
GROUP BY batch_id, key_id
ORDER BY cost_usd DESC, batch_id, key_id
