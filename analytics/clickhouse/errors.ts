import { ClickHouseError } from "@clickhouse/client";

/** ClickHouse's message on one line with its error name, e.g. "…Not enough privileges… (ACCESS_DENIED)". */
export function clickHouseMessage(error: Error): string {
  const text = error.message.replace(/\s+/g, " ").trim();
  return error instanceof ClickHouseError && error.type ? `${text} (${error.type})` : text;
}
