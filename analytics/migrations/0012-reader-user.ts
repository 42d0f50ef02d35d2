import { randomBytes } from "node:crypto";
import { keepsUsersInSql } from "../reader/access.ts";
import { readerRights } from "../reader/user.ts";
import type { Migration } from "./migration.ts";

/**
 * The ClickHouse user admin SQL and the named reports run as, `<database>_reader`, with a settings
 * profile of the same name. Created read-only and unable to log in (its password hash matches no
 * known password); every start then sets its grants, limits and password from the release and
 * the configuration (reader/access.ts). Only where ClickHouse keeps users in SQL: the embedded
 * ClickHouse gets its reader from the users.xml the gateway writes.
 */
export const readerUser: Migration = {
  id: 12,
  name: "reader-user",
  shouldApply: keepsUsersInSql,
  needs: readerRights,
  statements: (database) => [
    `CREATE SETTINGS PROFILE IF NOT EXISTS ${database}_reader SETTINGS readonly = 1 CONST`,
    `CREATE USER IF NOT EXISTS ${database}_reader
       IDENTIFIED WITH sha256_hash BY '${randomBytes(32).toString("hex")}'
       SETTINGS PROFILE '${database}_reader'`,
  ],
};
