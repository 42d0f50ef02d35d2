-- Every billed provider call by provider and model, failed attempts included: what the providers' invoices should show. Calls without a price are counted apart.
SELECT
  provider,
  provider_model,
  count() AS calls,
  sum(input_tokens) AS input_tokens,
  sum(cached_input_tokens) AS cached_input_tokens,
  sum(cache_write_tokens) AS cache_write_tokens,
  sum(output_tokens) AS output_tokens,
  sum(reasoning_tokens) AS reasoning_tokens,
  sum(cost) AS cost_usd,
  countIf(NOT priced) AS unpriced_calls,
  countIf(usage_estimated) AS estimated_calls
FROM attempts
WHERE finished_at >= {from:DateTime64(3)} AND finished_at < {to:DateTime64(3)} AND provider != ''
GROUP BY provider, provider_model
ORDER BY cost_usd DESC, provider, provider_model
