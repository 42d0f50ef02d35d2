-- Requests over [from, to) that called more than one deployment (failovers and retries), and those that failed over and still answered.
SELECT
  count() AS failed_over,
  countIf(answered) AS failed_over_and_answered
FROM (
  SELECT request_id, count() AS calls, countIf(outcome = 'completed') > 0 AS answered
  FROM attempts
  WHERE received_at >= {from:DateTime64(3)} AND received_at < {to:DateTime64(3)} AND cache = '' AND deployment != ''
    AND ({team:String} = '' OR request_id IN (
      SELECT request_id FROM requests
      WHERE received_at >= {from:DateTime64(3)} AND received_at < {to:DateTime64(3)} AND team = {team:String}
    ))
  GROUP BY request_id
  HAVING calls > 1
)
