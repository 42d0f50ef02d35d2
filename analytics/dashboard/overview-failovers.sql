-- Requests over [from, to) that called more than one deployment (failovers and retries), and those of them that still answered: per time step, with the range's totals (WITH TOTALS).
SELECT
  toUnixTimestamp(toStartOfInterval(f.first_at, toIntervalSecond({step:UInt32}))) AS at,
  count() AS failed_over,
  countIf(f.answered) AS failed_over_and_answered
FROM (
  SELECT request_id, min(received_at) AS first_at, count() AS calls, countIf(outcome = 'completed') > 0 AS answered
  FROM attempts
  WHERE received_at >= {from:DateTime64(3)} AND received_at < {to:DateTime64(3)} AND cache = '' AND deployment != ''
    AND ({team:String} = '' OR request_id IN (
      SELECT request_id FROM requests
      WHERE received_at >= {from:DateTime64(3)} AND received_at < {to:DateTime64(3)} AND team = {team:String}
    ))
  GROUP BY request_id
  HAVING calls > 1
) AS f
GROUP BY at WITH TOTALS
ORDER BY at
