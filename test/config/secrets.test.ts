import { describe, expect, it } from "vitest";
import { maskSecrets } from "../../config/secrets.ts";

describe("secrets in a configuration shown to people", () => {
  it("are hidden by the name of their option, and URLs lose their password", () => {
    expect(
      maskSecrets({
        auth: { keys: [{ key: "k-123456789", name: "ci" }], masterKey: "m-1", generatedKeyFile: "./data/k" },
        options: { apiKey: "sk-1", "x-api-key": "x-1", accessToken: "t-1", Authorization: "Bearer b" },
        clickhouse: { password: "p-1", url: "http://user:p-2@ch:8123", username: "user" },
        redis: { url: "redis://:p-3@cache:6379/0", keyPrefix: "gw:" },
        governance: { alertWebhookSecret: "s-1", maxTokens: 4096, masterKey: "" },
      }),
    ).toEqual({
      auth: { keys: [{ key: "***", name: "ci" }], masterKey: "***", generatedKeyFile: "./data/k" },
      options: { apiKey: "***", "x-api-key": "***", accessToken: "***", Authorization: "***" },
      clickhouse: { password: "***", url: "http://user:***@ch:8123/", username: "user" },
      redis: { url: "redis://:***@cache:6379/0", keyPrefix: "gw:" },
      // A count is not a secret, whatever its name; an empty one shows that it is not set.
      governance: { alertWebhookSecret: "***", maxTokens: 4096, masterKey: "" },
    });
  });
});
