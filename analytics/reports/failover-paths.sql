-- Requests that took more than one provider call, by the deployments they went through in order, and how many of them were answered in the end.
SELECT
  path,
  count() AS requests,
  countIf(last_outcome = 'completed') AS answered
FROM (
  SELECT
    request_id,
    arrayStringConcat(arrayMap(call -> call.3, arraySort(groupArray((started_at, attempt, deployment)))), ' > ') AS path,
    argMax(outcome, (started_at, attempt)) AS last_outcome,
    count() AS calls
  FROM attempts
  WHERE finished_at >= {from:DateTime64(3)} AND finished_at < {to:DateTime64(3)} AND provider != ''
  GROUP BY request_id
  HAVING calls > 1
)
GROUP BY path
ORDER BY requests DESC, path
LIMIT 100
