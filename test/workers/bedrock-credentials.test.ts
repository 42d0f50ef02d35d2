import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RunningGateway } from "../../app/gateway.ts";
import { bedrockProvider } from "../../workers/providers/bedrock/index.ts";
import { startStsEmulator } from "../emulators/aws-sts.ts";
import { type BedrockEmulator, startBedrockEmulator } from "../emulators/bedrock.ts";
import { ask, bedrock, callOptions, collect, keys, region, textOf } from "../support/bedrock.ts";
import { startTestGateway, testConfig, testKey } from "../support/gateway.ts";

/**
 * How the bedrock adapter authenticates, against a Bedrock emulator that verifies SigV4 with its
 * own implementation (test/emulators/aws-sigv4.ts) and an STS emulator: what AWS refuses is
 * refused, and each place credentials come from works.
 */
describe("bedrock credentials and signatures", () => {
  let emulator: BedrockEmulator;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    emulator = await startBedrockEmulator({ region, ...keys });
  });
  afterAll(() => emulator.close());
  afterEach(() => {
    process.env = { ...savedEnv };
  });
  const lastRequest = () => emulator.requests.at(-1) as BedrockEmulator["requests"][number];

  it("refuses a wrong secret with AWS's 403, reported as the gateway's credentials refused", async () => {
    const wrong = bedrock({ baseUrl: emulator.url, ...keys, secretAccessKey: "not-the-secret" });
    await expect(collect(wrong.chat(ask("hello"), callOptions("m", false)))).rejects.toMatchObject({
      code: "provider_error",
      status: 502,
      message: "bedrock refused the gateway's AWS credentials (HTTP 403 InvalidSignatureException)",
    });
    expect(lastRequest().status).toBe(403);
  });

  it("refuses a body altered after signing", async () => {
    // A proxy that changes one letter of the body on its way, keeping its length and headers.
    const proxy = createServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => {
        const body = Buffer.from(Buffer.concat(chunks).toString().replace("hello", "jello"));
        const target = new URL(emulator.url);
        const forward = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            method: incoming.method,
            path: incoming.url,
            headers: incoming.headers,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    try {
      const through = bedrock({
        baseUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
        ...keys,
      });
      await expect(collect(through.chat(ask("hello"), callOptions("m", false)))).rejects.toMatchObject({
        message: "bedrock refused the gateway's AWS credentials (HTTP 403 InvalidSignatureException)",
      });
      expect(lastRequest().body).toMatchObject({ messages: [{ content: [{ text: "jello" }] }] });
      await expect(collect(through.chat(ask("unchanged"), callOptions("m", false)))).resolves.toBeDefined();
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("signs the session token of temporary keys; without it the keys are refused", async () => {
    const temporary = {
      accessKeyId: "ASIATEMPORARY",
      secretAccessKey: "temporary-secret",
      sessionToken: "token-1",
    };
    emulator.allow(temporary.accessKeyId, {
      secretAccessKey: temporary.secretAccessKey,
      sessionToken: "token-1",
    });
    const withToken = bedrock({ baseUrl: emulator.url, ...temporary });
    expect(textOf(await collect(withToken.chat(ask("hi"), callOptions("m", false))))).toBe("Echo: hi");
    expect(lastRequest().headers["x-amz-security-token"]).toBe("token-1");
    expect(lastRequest().headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
    const { sessionToken: _, ...withoutToken } = temporary;
    await expect(
      collect(bedrock({ baseUrl: emulator.url, ...withoutToken }).chat(ask("hi"), callOptions("m", false))),
    ).rejects.toMatchObject({ message: /HTTP 403 UnrecognizedClientException/ });
    emulator.allow("ASIAEXPIRED", { secretAccessKey: "s", sessionToken: "t", expiresAt: Date.now() - 1 });
    await expect(
      collect(
        bedrock({
          baseUrl: emulator.url,
          accessKeyId: "ASIAEXPIRED",
          secretAccessKey: "s",
          sessionToken: "t",
        }).chat(ask("hi"), callOptions("m", false)),
      ),
    ).rejects.toMatchObject({ message: /HTTP 403 ExpiredTokenException/ });
  });

  it("finds credentials in the environment, then in the shared credentials file's profile", async () => {
    process.env.AWS_ACCESS_KEY_ID = keys.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = keys.secretAccessKey;
    process.env.AWS_REGION = region;
    const fromEnv = bedrockProvider.create(
      Value.Default(bedrockProvider.optionsSchema, { baseUrl: emulator.url }) as never,
    );
    expect(textOf(await collect(fromEnv.chat(ask("from env"), callOptions("m", false))))).toBe(
      "Echo: from env",
    );

    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    const file = join(mkdtempSync(join(tmpdir(), "aws-")), "credentials");
    writeFileSync(
      file,
      `[default]\naws_access_key_id = AKIAWRONG\naws_secret_access_key = wrong\n\n# the one to use\n[work]\naws_access_key_id = ${keys.accessKeyId}\naws_secret_access_key = ${keys.secretAccessKey}\n`,
    );
    process.env.AWS_SHARED_CREDENTIALS_FILE = file;
    const fromFile = bedrock({ baseUrl: emulator.url, profile: "work" });
    expect(textOf(await collect(fromFile.chat(ask("from file"), callOptions("m", false))))).toBe(
      "Echo: from file",
    );
    process.env.AWS_PROFILE = "default";
    await expect(
      collect(bedrock({ baseUrl: emulator.url }).chat(ask("hi"), callOptions("m", false))),
    ).rejects.toMatchObject({ message: /HTTP 403 UnrecognizedClientException/ });
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), "no-such-credentials-file");
    process.env.AWS_CONFIG_FILE = join(tmpdir(), "no-such-config-file");
    await expect(
      collect(bedrock({ baseUrl: emulator.url }).chat(ask("hi"), callOptions("m", false))),
    ).rejects.toMatchObject({ code: "provider_error", message: /bedrock has no AWS credentials/ });
  });

  it("assumes a role with a web identity token at STS, caches the keys and renews them before they expire", async () => {
    const roleArn = "arn:aws:iam::123456789012:role/gateway";
    const tokenFile = join(mkdtempSync(join(tmpdir(), "wit-")), "token");
    writeFileSync(tokenFile, "web-identity-token\n");
    for (const [durationMs, expectedCalls] of [
      [3600_000, 1],
      [4 * 60_000, 3], // inside the five-minute renewal margin: renewed on every use
    ] as const) {
      const sts = await startStsEmulator({
        roleArn,
        token: "web-identity-token",
        durationMs,
        issue: (accessKeyId, key) => emulator.allow(accessKeyId, key),
      });
      try {
        process.env.AWS_ROLE_ARN = roleArn;
        process.env.AWS_WEB_IDENTITY_TOKEN_FILE = tokenFile;
        process.env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), "no-such-credentials-file");
        const assumed = bedrock({ baseUrl: emulator.url, stsEndpoint: sts.url });
        for (const word of ["one", "two", "three"])
          expect(textOf(await collect(assumed.chat(ask(word), callOptions("m", false))))).toBe(
            `Echo: ${word}`,
          );
        expect(sts.forms.length).toBe(expectedCalls);
        expect(lastRequest().headers["x-amz-security-token"]).toBeTruthy();
      } finally {
        await sts.close();
      }
    }
    const sts = await startStsEmulator({
      roleArn,
      token: "another-token",
      durationMs: 3600_000,
      issue: () => {},
    });
    try {
      const refused = bedrock({
        baseUrl: emulator.url,
        roleArn,
        webIdentityTokenFile: tokenFile,
        stsEndpoint: sts.url,
      });
      await expect(collect(refused.chat(ask("hi"), callOptions("m", false)))).rejects.toMatchObject({
        message: `bedrock could not assume role ${roleArn} with its web identity: STS answered HTTP 400 InvalidIdentityToken`,
      });
    } finally {
      await sts.close();
    }
  });

  it("reaches a caller through the gateway: a refused signature as a 502 naming AWS's error, throttling as a 429", async () => {
    const gateway: RunningGateway = await startTestGateway(
      testConfig("in-process", {
        providers: [
          { name: "bedrock", type: "bedrock", options: { region, baseUrl: emulator.url, ...keys } },
          {
            name: "wrong",
            type: "bedrock",
            options: { region, baseUrl: emulator.url, ...keys, secretAccessKey: "x" },
          },
        ],
        models: [
          { name: "nova", provider: "bedrock", model: "amazon.nova-pro-v1:0" },
          { name: "wrong", provider: "wrong", model: "amazon.nova-pro-v1:0" },
        ],
      }),
    );
    try {
      const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: testKey, maxRetries: 0 });
      const failure = (model: string, content: string) =>
        openai.chat.completions
          .create({ model, stream: false, messages: [{ role: "user", content }] })
          .catch((error) => error);
      expect(await failure("wrong", "hello")).toMatchObject({
        status: 502,
        message: expect.stringMatching(
          /bedrock refused the gateway's AWS credentials \(HTTP 403 InvalidSignatureException\)/,
        ),
      });
      const stream = await openai.chat.completions
        .create({
          model: "nova",
          stream: true,
          messages: [{ role: "user", content: "hello [emulator:corrupt=message]" }],
        })
        .catch((error) => error);
      expect(stream).toMatchObject({ status: 502 });
      expect(await failure("nova", "hi [emulator:status=429]")).toMatchObject({ status: 429 });
    } finally {
      await gateway.close();
    }
  });
});
