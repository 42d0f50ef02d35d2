-- The answer cache over [from, to), split by model or key (by = 'model' or 'key', else one row; the first rows by USD saved, up to limit): lookups (bypass and unavailable left out), hits (exact, semantic, coalesced), and the tokens and USD the hits saved.
SELECT
  multiIf({by:String} = 'model', r.model_requested, {by:String} = 'key', r.key_id, 'all') AS name,
  sumIf(r.requests, r.cache NOT IN ('bypass', 'unavailable')) AS total_lookups,
  sumIf(r.requests, r.cache IN ('hit', 'semantic-hit', 'coalesced')) AS total_hits,
  sumIf(r.input_tokens + r.output_tokens, r.cache IN ('hit', 'semantic-hit', 'coalesced')) AS total_tokens_saved,
  toString(sum(r.cost_saved)) AS total_cost_saved
FROM requests_per_minute AS r
WHERE r.minute >= toStartOfMinute({from:DateTime64(3)}) AND r.minute < {to:DateTime64(3)}
  AND r.cache != ''
  AND ({team:String} = '' OR r.team = {team:String})
GROUP BY name
ORDER BY sum(r.cost_saved) DESC, total_hits DESC, name
LIMIT {limit:UInt32}
