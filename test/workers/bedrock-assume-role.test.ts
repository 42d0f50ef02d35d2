import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type StsEmulator, startStsEmulator } from "../emulators/aws-sts.ts";
import { type BedrockEmulator, startBedrockEmulator } from "../emulators/bedrock.ts";
import { ask, bedrock, callOptions, collect, keys, region, textOf } from "../support/bedrock.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * Cross-account Bedrock: the gateway's own keys (`keys`, its account) assume a role in another
 * account with STS AssumeRole, signed with SigV4 for `sts`. That account's Bedrock knows only its
 * own key and the temporary credentials its STS issued for the role, so a call it accepts was
 * signed with the role's credentials.
 */
describe("bedrock assuming a role with STS AssumeRole", () => {
  const roleArn = "arn:aws:iam::210987654321:role/bedrock-caller";
  const noFile = join(tmpdir(), "no-such-aws-file");
  let otherAccount: BedrockEmulator;
  const running: StsEmulator[] = [];
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    otherAccount = await startBedrockEmulator({
      region,
      accessKeyId: "AKIAOTHERACCOUNT",
      secretAccessKey: "the-other-account's-own-secret",
    });
  });
  afterAll(() => otherAccount.close());
  afterEach(async () => {
    process.env = { ...savedEnv };
    await Promise.all(running.splice(0).map((sts) => sts.close()));
  });

  /** The other account's STS; the role trusts the gateway's keys. */
  const startSts = async (role: { externalId?: string; durationMs?: number } = {}) => {
    const sts = await startStsEmulator({
      roleArn,
      region,
      trusted: new Map([[keys.accessKeyId, { secretAccessKey: keys.secretAccessKey }]]),
      issue: (accessKeyId, key) => otherAccount.allow(accessKeyId, key),
      ...role,
    });
    running.push(sts);
    return sts;
  };
  const chat = (provider: ReturnType<typeof bedrock>, text: string) =>
    collect(provider.chat(ask(text), callOptions("m", false))).then(textOf);
  const lastRequest = () => otherAccount.requests.at(-1) as BedrockEmulator["requests"][number];

  it("assumes the role with the options' keys; the other account's Bedrock takes the role's credentials, not those keys", async () => {
    const sts = await startSts();
    await expect(chat(bedrock({ baseUrl: otherAccount.url, ...keys }), "hi")).rejects.toMatchObject({
      message: /HTTP 403 UnrecognizedClientException/,
    });

    const assumed = bedrock({ baseUrl: otherAccount.url, ...keys, roleArn, stsEndpoint: sts.url });
    expect(await chat(assumed, "across accounts")).toBe("Echo: across accounts");
    expect(lastRequest().headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIA[0-9A-F]{16}\//);
    expect(lastRequest().headers["x-amz-security-token"]).toBeTruthy();
    expect(sts.forms.map((form) => Object.fromEntries(form))).toEqual([
      {
        Action: "AssumeRole",
        Version: "2011-06-15",
        RoleArn: roleArn,
        RoleSessionName: "ai-gateway",
        DurationSeconds: "3600",
      },
    ]);
  });

  it("assumes the role with the environment's keys, at the STS that AWS_ENDPOINT_URL_STS names", async () => {
    const sts = await startSts();
    process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
    const assumed = bedrock({ baseUrl: otherAccount.url, roleArn, roleSessionName: "nightly" });
    expect(await chat(assumed, "from env")).toBe("Echo: from env");
    expect(sts.forms.map((form) => form.get("RoleSessionName"))).toEqual(["nightly"]);
  });

  it("renews the role's credentials before they expire, and keeps them while they last", async () => {
    for (const [durationMs, expectedCalls] of [
      [4 * 60_000, 3], // inside the five-minute renewal margin: renewed on every use
      [undefined, 1], // the 900 s asked for
    ] as const) {
      const sts = await startSts({ durationMs });
      const assumed = bedrock({
        baseUrl: otherAccount.url,
        ...keys,
        roleArn,
        durationSeconds: 900,
        stsEndpoint: sts.url,
      });
      for (const word of ["one", "two", "three"]) expect(await chat(assumed, word)).toBe(`Echo: ${word}`);
      expect(sts.forms.length).toBe(expectedCalls);
      expect(sts.forms.every((form) => form.get("DurationSeconds") === "900")).toBe(true);
    }
  });

  it("asks STS once for calls that all need the role's credentials at the same time", async () => {
    const sts = await startSts();
    const assumed = bedrock({ baseUrl: otherAccount.url, ...keys, roleArn, stsEndpoint: sts.url });
    const words = ["a", "b", "c", "d", "e"];
    expect(await Promise.all(words.map((word) => chat(assumed, word)))).toEqual(
      words.map((word) => `Echo: ${word}`),
    );
    expect(sts.forms.length).toBe(1);
  });

  it("gives the ExternalId the role's trust policy requires; without it or with another, STS denies", async () => {
    const sts = await startSts({ externalId: "tenant-7f3a" });
    const withExternalId = (externalId?: string) =>
      bedrock({ baseUrl: otherAccount.url, ...keys, roleArn, externalId, stsEndpoint: sts.url });
    const denied = `bedrock could not assume role ${roleArn} with its AWS credentials: STS answered HTTP 403 AccessDenied`;
    await expect(chat(withExternalId(), "hi")).rejects.toMatchObject({ status: 502, message: denied });
    await expect(chat(withExternalId("tenant-0000"), "hi")).rejects.toMatchObject({ message: denied });
    expect(await chat(withExternalId("tenant-7f3a"), "granted")).toBe("Echo: granted");
    expect(sts.forms.map((form) => form.get("ExternalId"))).toEqual([null, "tenant-0000", "tenant-7f3a"]);
  });

  it("reports a role STS refuses by its error code: an unknown key, an unknown role", async () => {
    const sts = await startSts();
    const refusal = (options: Record<string, unknown>) =>
      chat(bedrock({ baseUrl: otherAccount.url, ...keys, roleArn, stsEndpoint: sts.url, ...options }), "hi");
    await expect(refusal({ accessKeyId: "AKIAUNKNOWN" })).rejects.toMatchObject({
      message: /STS answered HTTP 403 InvalidClientTokenId$/,
    });
    const otherRole = "arn:aws:iam::210987654321:role/not-this-one";
    await expect(refusal({ roleArn: otherRole })).rejects.toMatchObject({
      message: `bedrock could not assume role ${otherRole} with its AWS credentials: STS answered HTTP 403 AccessDenied`,
    });
    for (const name of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ROLE_ARN"])
      delete process.env[name];
    process.env.AWS_SHARED_CREDENTIALS_FILE = noFile;
    process.env.AWS_CONFIG_FILE = noFile;
    await expect(refusal({ accessKeyId: undefined, secretAccessKey: undefined })).rejects.toMatchObject({
      message: /^bedrock has no AWS credentials/,
    });
  });

  it("reaches a caller whose base secret is wrong as a 502 naming STS's error, never the secret", async () => {
    const sts = await startSts();
    const wrongSecret = "wrong/secret+value";
    const gateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          {
            name: "cross",
            type: "bedrock",
            options: {
              region,
              baseUrl: otherAccount.url,
              ...keys,
              secretAccessKey: wrongSecret,
              roleArn,
              stsEndpoint: sts.url,
            },
          },
        ],
        models: [{ name: "cross", provider: "cross", model: "amazon.nova-pro-v1:0" }],
      }),
    );
    try {
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
      const failure = await openai.chat.completions
        .create({ model: "cross", messages: [{ role: "user", content: "hi" }] })
        .catch((error) => error);
      expect(failure).toMatchObject({
        status: 502,
        message: expect.stringContaining(
          `bedrock could not assume role ${roleArn} with its AWS credentials: STS answered HTTP 403 SignatureDoesNotMatch`,
        ),
      });
      expect(JSON.stringify(failure.error)).not.toContain(wrongSecret);
      expect(sts.forms.at(-1)?.get("Action")).toBe("AssumeRole");
    } finally {
      await gateway.close();
    }
  });

  it("assumes a shared config profile's role with its source profile's keys", async () => {
    const sts = await startSts({ externalId: "tenant-7f3a" });
    const folder = mkdtempSync(join(tmpdir(), "aws-"));
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(folder, "credentials");
    process.env.AWS_CONFIG_FILE = join(folder, "config");
    writeFileSync(
      process.env.AWS_SHARED_CREDENTIALS_FILE,
      `[gateway]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
    );
    writeFileSync(
      process.env.AWS_CONFIG_FILE,
      `[default]\nregion = ${region}\n\n[profile cross]\nrole_arn = ${roleArn}\nsource_profile = gateway\nexternal_id = tenant-7f3a\nrole_session_name = from-profile\n\n[profile orphan]\nrole_arn = ${roleArn}\nsource_profile = missing\n`,
    );
    const viaProfile = bedrock({ baseUrl: otherAccount.url, profile: "cross", stsEndpoint: sts.url });
    expect(await chat(viaProfile, "profile")).toBe("Echo: profile");
    expect(Object.fromEntries(sts.forms.at(-1) as URLSearchParams)).toMatchObject({
      Action: "AssumeRole",
      RoleArn: roleArn,
      ExternalId: "tenant-7f3a",
      RoleSessionName: "from-profile",
    });
    await expect(
      chat(bedrock({ baseUrl: otherAccount.url, profile: "orphan", stsEndpoint: sts.url }), "hi"),
    ).rejects.toMatchObject({
      message: `bedrock's profile "orphan" assumes role ${roleArn} with the credentials of profile "missing", which has none`,
    });
  });
});
