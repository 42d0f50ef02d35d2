import { type ReaderOptions, readerGrants, readerName, readerSettings } from "./user.ts";

/** The reader of an embedded ClickHouse: whose database it reads, its options, its password's SHA-256. */
export interface XmlReader {
  database: string;
  options: ReaderOptions;
  passwordSha256: string;
}

/**
 * The users.xml of the embedded ClickHouse. `clickhouse local` keeps users only in such a file
 * (it has no access storage that CREATE USER could write), so the reader is defined here, with the
 * same grants and settings profile that migration 0012 and reader/access.ts give it on a server.
 * `default` is what clickhouse local defines by itself — no password (its listener is on loopback
 * only), every right — with access management added, as the gateway's own user has elsewhere: so
 * CREATE USER fails here for the one reason that holds, "no writeable access storage".
 */
export function usersXml(reader?: XmlReader): string {
  const name = reader && readerName(reader.database);
  const profile = reader
    ? `
    <${name}>
${readerSettings(reader.options)
  .map(([setting, value]) => `      <${setting}>${value}</${setting}>`)
  .join("\n")}
      <constraints>
${readerSettings(reader.options)
  .map(([setting]) => `        <${setting}><const/></${setting}>`)
  .join("\n")}
      </constraints>
    </${name}>`
    : "";
  const user = reader
    ? `
    <${name}>
      <password_sha256_hex>${reader.passwordSha256}</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>${name}</profile>
      <quota>default</quota>
      <grants>
${readerGrants(reader.database)
  .map((on) => `        <query>GRANT SELECT ON ${on}</query>`)
  .join("\n")}
      </grants>
    </${name}>`
    : "";
  return `<clickhouse>
  <!-- Written by the gateway at every start of its embedded ClickHouse: edits here are lost. -->
  <profiles>
    <default/>${profile}
  </profiles>
  <users>
    <default>
      <password/>
      <networks><ip>::/0</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <named_collection_control>1</named_collection_control>
      <access_management>1</access_management>
    </default>${user}
  </users>
  <quotas>
    <default/>
  </quotas>
</clickhouse>
`;
}

/**
 * The config.xml of the embedded ClickHouse: where its users are, and its memory worker (which
 * reads the process's resident memory for ClickHouse's memory accounting) every second instead of
 * ten times a second: idle, the embedded ClickHouse then spends 4–6 ms of CPU a second, not 6–11
 * (its MemoryWorker thread alone took 5).
 */
export function configXml(usersPath: string): string {
  const path = usersPath.replaceAll("&", "&amp;").replaceAll("<", "&lt;");
  return `<clickhouse>
  <memory_worker_period_ms>1000</memory_worker_period_ms>
  <user_directories>
    <users_xml><path>${path}</path></users_xml>
  </user_directories>
</clickhouse>
`;
}
