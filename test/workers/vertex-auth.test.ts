import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Value } from "@sinclair/typebox/value";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropicMessages } from "../../calls/apis/anthropic-messages/index.ts";
import type { ChatRequest } from "../../schemas/request-envelope.ts";
import type { Provider } from "../../workers/providers/provider.ts";
import { renewalTime } from "../../workers/providers/vertex/access-tokens.ts";
import { vertexBaseUrl } from "../../workers/providers/vertex/endpoint.ts";
import { vertexProvider } from "../../workers/providers/vertex/index.ts";
import { loadServiceAccount, signedAssertion } from "../../workers/providers/vertex/service-account.ts";
import { startVertexEmulator, type VertexEmulator, vertexProject } from "../emulators/vertex.ts";

/** A vertex provider with its documented defaults, as the configuration loader makes it. */
const vertexWith = (options: Record<string, unknown>): Provider =>
  vertexProvider.create(
    Value.Default(vertexProvider.optionsSchema, { project: vertexProject, ...options }) as never,
  );

const chatOf = (text: string): ChatRequest =>
  anthropicMessages.parse({
    model: "m",
    max_tokens: 100,
    messages: [{ role: "user", content: text }],
  } as never).chat as ChatRequest;

/** The text a provider answers for a prompt to a Gemini model. */
async function ask(provider: Provider, text: string, model = "gemini-2.5-flash"): Promise<string> {
  let answer = "";
  const call = {
    model,
    stream: false,
    signal: new AbortController().signal,
    inboundApi: "anthropic_messages" as const,
  };
  for await (const part of provider.chat(chatOf(text), call))
    if (part.type === "text-delta") answer += part.text;
  return answer;
}

const bearerOf = (emulator: VertexEmulator) =>
  emulator.requests.map((request) => request.headers.authorization);
const refusedCalls = (emulator: VertexEmulator) =>
  emulator.requests.filter((request) => request.status === 401);

/**
 * Vertex AI's OAuth access tokens, against an emulator whose token endpoint verifies each signed
 * assertion with the service account's public key and whose API refuses missing, unknown and
 * expired tokens as Google does.
 */
describe("vertex access tokens from a service account", () => {
  let emulator: VertexEmulator;

  beforeAll(async () => {
    // A token exchange takes a while, as a real one does: concurrent calls overlap it.
    emulator = await startVertexEmulator({ tokenLatencyMs: 100 });
  });
  afterAll(() => emulator.close());

  it("exchanges one signed assertion for a token that serves many calls", async () => {
    const provider = vertexWith({ baseUrl: emulator.url, serviceAccount: emulator.newServiceAccount().json });
    const before = emulator.tokenEndpoint.exchanges();
    for (const word of ["one", "two", "three", "four", "five"])
      expect(await ask(provider, word)).toBe(`Echo: ${word}`);
    expect(emulator.tokenEndpoint.exchanges() - before).toBe(1);
    const tokens = new Set(bearerOf(emulator).slice(-5));
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).toMatch(/^Bearer ya29\.emu-/);
  });

  it("makes one exchange for 20 concurrent calls, and one more when Vertex refuses the token they all hold", async () => {
    const provider = vertexWith({ baseUrl: emulator.url, serviceAccount: emulator.newServiceAccount().json });
    const twenty = () =>
      Promise.all(Array.from({ length: 20 }, (_, index) => ask(provider, `call ${index}`)));
    const before = emulator.tokenEndpoint.exchanges();
    expect(await twenty()).toEqual(Array.from({ length: 20 }, (_, index) => `Echo: call ${index}`));
    expect(emulator.tokenEndpoint.exchanges() - before).toBe(1);

    emulator.tokenEndpoint.expireAll();
    const refusedBefore = refusedCalls(emulator).length;
    expect(await twenty()).toEqual(Array.from({ length: 20 }, (_, index) => `Echo: call ${index}`));
    expect(refusedCalls(emulator).length - refusedBefore).toBe(20);
    expect(emulator.tokenEndpoint.exchanges() - before).toBe(2);
  });

  it("drops a token Vertex refuses as expired and makes the call again with a new one", async () => {
    const provider = vertexWith({ baseUrl: emulator.url, serviceAccount: emulator.newServiceAccount().json });
    expect(await ask(provider, "first")).toBe("Echo: first");
    emulator.tokenEndpoint.expireAll();
    const before = emulator.requests.length;
    expect(await ask(provider, "second")).toBe("Echo: second");
    const [refused, retried] = emulator.requests.slice(before);
    expect(refused?.status).toBe(401);
    expect(retried?.status).toBe(200);
    expect(retried?.headers.authorization).not.toBe(refused?.headers.authorization);
  });

  it("renews a short-lived token before it expires, so Vertex never sees an expired one", async () => {
    const shortLived = await startVertexEmulator({ tokenLifetimeSeconds: 2 });
    try {
      const provider = vertexWith({
        baseUrl: shortLived.url,
        serviceAccount: shortLived.newServiceAccount().json,
      });
      expect(await ask(provider, "early")).toBe("Echo: early");
      // Past 90 % of the token's two seconds: due for renewal though Vertex would still take it.
      await new Promise((resolve) => setTimeout(resolve, 1850));
      expect(await ask(provider, "late")).toBe("Echo: late");
      expect(shortLived.tokenEndpoint.exchanges()).toBe(2);
      expect(refusedCalls(shortLived)).toEqual([]);
      expect(new Set(bearerOf(shortLived)).size).toBe(2);
    } finally {
      await shortLived.close();
    }
  });

  it("renews five minutes before expiry, or at 90 % of the life of a token shorter than fifty minutes", () => {
    expect(renewalTime(1_000, 3600)).toBe(1_000 + 55 * 60_000);
    expect(renewalTime(1_000, 100)).toBe(1_000 + 90_000);
  });

  it("fails a call with a clear error when Google does not accept the key the assertion is signed with", async () => {
    const account = emulator.newServiceAccount(false);
    const provider = vertexWith({ baseUrl: emulator.url, serviceAccount: account.json });
    const before = emulator.requests.length;
    await expect(ask(provider, "hello")).rejects.toMatchObject({
      code: "provider_error",
      status: 502,
      message: `vertex could not get an access token for ${account.email}: invalid_grant (Invalid JWT Signature.)`,
    });
    expect(emulator.requests.length).toBe(before);
  });

  it("sends a token given in the options as it is, never exchanging or renewing it", async () => {
    const account = loadServiceAccount(emulator.newServiceAccount().json);
    const exchanged = await fetch(account.tokenUri, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
        assertion: signedAssertion(account),
      }),
    });
    const { access_token: token } = (await exchanged.json()) as { access_token: string };
    const provider = vertexWith({ baseUrl: emulator.url, accessToken: token });
    const before = emulator.tokenEndpoint.exchanges();
    expect(await ask(provider, "given")).toBe("Echo: given");
    expect(emulator.requests.at(-1)?.headers.authorization).toBe(`Bearer ${token}`);
    emulator.tokenEndpoint.expireAll();
    await expect(ask(provider, "again")).rejects.toMatchObject({
      status: 502,
      message: "vertex refused the gateway's credentials (HTTP 401)",
    });
    expect(emulator.tokenEndpoint.exchanges()).toBe(before);
  });

  it("calls a region's endpoint, or the global one, with the location in the path", async () => {
    expect(vertexBaseUrl("europe-west4")).toBe("https://europe-west4-aiplatform.googleapis.com");
    expect(vertexBaseUrl("global")).toBe("https://aiplatform.googleapis.com");
    const serviceAccount = emulator.newServiceAccount().json;
    for (const location of ["global", "europe-west4"]) {
      expect(await ask(vertexWith({ baseUrl: emulator.url, serviceAccount, location }), "where")).toBe(
        "Echo: where",
      );
      expect(emulator.requests.at(-1)?.path).toBe(
        `/v1/projects/${vertexProject}/locations/${location}/publishers/google/models/gemini-2.5-flash:generateContent`,
      );
    }
  });
});

describe("where a vertex provider finds its service account", () => {
  let emulator: VertexEmulator;
  beforeAll(async () => {
    emulator = await startVertexEmulator();
  });
  afterAll(() => emulator.close());

  it("reads the key file's JSON inline, from a path, or from GOOGLE_APPLICATION_CREDENTIALS", () => {
    const key = emulator.newServiceAccount();
    const file = join(mkdtempSync(join(tmpdir(), "vertex-")), "key.json");
    writeFileSync(file, key.json);
    for (const account of [
      loadServiceAccount(key.json),
      loadServiceAccount(file),
      loadServiceAccount(undefined, { GOOGLE_APPLICATION_CREDENTIALS: file }),
    ]) {
      expect(account.email).toBe(key.email);
      expect(account.tokenUri).toBe(emulator.tokenEndpoint.url);
    }
  });

  it("names what is missing or wrong, never the key itself", () => {
    expect(() => loadServiceAccount(undefined, {})).toThrow(
      "vertex: give options.accessToken, options.serviceAccount (a key file's JSON or path) or GOOGLE_APPLICATION_CREDENTIALS",
    );
    expect(() => loadServiceAccount("/nowhere/key.json")).toThrow(
      "vertex: cannot read the service account file /nowhere/key.json: ENOENT",
    );
    expect(() =>
      loadServiceAccount('{"type":"authorized_user","client_email":"a","private_key":"b"}'),
    ).toThrow('holds "authorized_user" credentials; only service_account keys are taken');
    const broken = JSON.stringify({
      ...JSON.parse(emulator.newServiceAccount().json),
      private_key: "secret-ish",
    });
    expect(() => loadServiceAccount(broken)).toThrow(
      "vertex: the private_key of options.serviceAccount (inline JSON) is not a PEM private key",
    );
  });
});
