-- Spend of finished requests over [from, to) grouped by team, key, user, model or tag (each name=value of a request's tags: a request with two tags counts in both), dearest first: requests, tokens, cost, and cost per time step.
SELECT
  arrayJoin(multiIf(
    {by:String} = 'tag', if(empty(r.tags), ['(no tags)'], arrayMap((name, value) -> concat(name, '=', value), mapKeys(r.tags), mapValues(r.tags))),
    {by:String} = 'key', [r.key_id],
    {by:String} = 'user', [if(r.end_user = '', '(no user)', r.end_user)],
    {by:String} = 'model', [r.model_requested],
    [if(r.team = '', '(no team)', r.team)]
  )) AS group_name,
  count() AS total_requests,
  sum(r.input_tokens) AS total_input_tokens,
  sum(r.output_tokens) AS total_output_tokens,
  toString(sum(r.cost)) AS total_cost,
  -- Unix second of each step's start -> its cost, for the chart of the dearest groups.
  sumMap(map(toUnixTimestamp(toStartOfInterval(r.received_at, toIntervalSecond({step:UInt32}))), toFloat64(r.cost))) AS cost_per_step
FROM requests AS r
WHERE r.stage = 'finished'
  AND r.received_at >= {from:DateTime64(3)} AND r.received_at < {to:DateTime64(3)}
  AND ({team:String} = '' OR r.team = {team:String})
GROUP BY group_name
ORDER BY sum(r.cost) DESC, group_name
LIMIT {limit:UInt32}
