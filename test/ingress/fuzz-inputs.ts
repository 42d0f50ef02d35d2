import fc from "fast-check";

/**
 * What the fuzz test sends: bodies of every kind, from wholly random bytes to valid requests with
 * one thing changed. A value may hold `Raw` pieces, JSON text that no JavaScript value serialises
 * to (1e400, 5,000 levels of nesting): `toJson` splices them in.
 */
class Raw {
  constructor(readonly text: string) {}
}

/** JSON text of a value that may hold Raw pieces. */
export function toJson(value: unknown): string {
  const pieces: string[] = [];
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (!(item instanceof Raw)) return item;
    pieces.push(item.text);
    return `\u0000raw${pieces.length - 1}\u0000`;
  });
  // JSON.stringify(undefined) is undefined: send an empty body then.
  return (text ?? "").replace(
    /"\\u0000raw(\d+)\\u0000"/g,
    (_match, index: string) => pieces[Number(index)] ?? "",
  );
}

/** The fuzz gateway's models: "m" on an OpenAI emulator, "c" on an Anthropic one. */
export const models = ["m", "c"] as const;

const prompt = [{ role: "user", content: "hi" }];
const schema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };

/** Valid bodies of each API, plain and with most of what the gateway models. */
export const validBodies: Record<string, unknown[]> = {
  openai_chat: [
    { model: "m", messages: prompt },
    {
      model: "m",
      messages: [
        { role: "system", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "low" } },
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "c1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
      ],
      tools: [
        { type: "function", function: { name: "weather", description: "the weather", parameters: schema } },
      ],
      tool_choice: "auto",
      parallel_tool_calls: false,
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 30,
      stop: ["zzz"],
      seed: 7,
      n: 1,
      user: "ana",
      reasoning_effort: "low",
      stream: true,
      stream_options: { include_usage: true },
    },
    {
      model: "m",
      messages: prompt,
      response_format: { type: "json_schema", json_schema: { name: "place", schema, strict: true } },
      logprobs: false,
    },
  ],
  anthropic_messages: [
    { model: "m", max_tokens: 30, messages: prompt },
    {
      model: "m",
      max_tokens: 2048,
      system: [{ type: "text", text: "be brief", cache_control: { type: "ephemeral" } }],
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "look" },
            { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } },
          ],
        },
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "t1", name: "weather", input: { city: "Oslo" } }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", tool_use_id: "t1", content: [{ type: "text", text: "sunny" }] }],
        },
      ],
      tools: [{ name: "weather", description: "the weather", input_schema: schema }],
      tool_choice: { type: "auto", disable_parallel_tool_use: true },
      temperature: 0.5,
      stop_sequences: ["zzz"],
      metadata: { user_id: "ana" },
      stream: true,
    },
    {
      model: "m",
      max_tokens: 4096,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: prompt,
    },
  ],
  openai_responses: [
    { model: "m", input: "hi" },
    {
      model: "m",
      instructions: "be brief",
      input: [
        { role: "user", content: [{ type: "input_text", text: "weather?" }] },
        { type: "function_call", call_id: "c1", name: "weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call_output", call_id: "c1", output: "sunny" },
        { type: "reasoning", summary: [], encrypted_content: "bm90IGEgcHJvb2Y=" },
        { role: "assistant", content: [{ type: "output_text", text: "It is sunny." }] },
        { role: "user", content: "thanks" },
      ],
      tools: [{ type: "function", name: "weather", description: "the weather", parameters: schema }],
      tool_choice: "auto",
      reasoning: { effort: "low" },
      max_output_tokens: 50,
      metadata: { app: "fuzz" },
      store: false,
      stream: true,
    },
    { model: "m", input: "hi", text: { format: { type: "json_schema", name: "place", schema } } },
  ],
  openai_embeddings: [
    { model: "m", input: "hi" },
    { model: "m", input: ["alpha", "beta"], encoding_format: "base64", dimensions: 8, user: "ana" },
  ],
};

/** Strings that break naive code: NUL, lone surrogates, emoji, right-to-left, huge. */
const nastyString = fc.oneof(
  fc.constantFrom("", " ", "\u0000", "a\u0000b", "\ud800", "\udfff", "x\ud83d", "🙂", "\u202e", "null", "[]"),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom("a", "\u0000", "\ud800", "\udc00", "é", "🙂", '"', "\\"),
    maxLength: 40,
  }),
  fc.integer({ min: 10_000, max: 300_000 }).map((length) => "x".repeat(length)),
);

/** Numbers at the edges, some only expressible as JSON text. */
const nastyNumber = fc.oneof(
  fc.constantFrom(0, -1, 0.5, 1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), Number.MIN_VALUE, 128, 129, 4096),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc
    .constantFrom("1e400", "-1e400", "123456789012345678901234567890", "-0", "1E+2", "0.0000000001")
    .map((text) => new Raw(text)),
);

/** Arrays and objects nested `levels` deep, as text (no JavaScript value survives 5,000 levels of JSON.stringify). */
export const deeplyNested = fc
  .integer({ min: 100, max: 6000 })
  .map((levels) => new Raw(`${'{"a":['.repeat(levels)}0${"]}".repeat(levels)}`));

/** Any JSON value, with unicode, as a replacement of one field. */
const anyValue = fc.jsonValue({ maxDepth: 3, stringUnit: "binary" });

const replacement = fc.oneof(
  { weight: 4, arbitrary: anyValue },
  { weight: 3, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 1, arbitrary: deeplyNested },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [[]], [{}], { type: "unknown" }) },
);

/** Every place in a value: the path of each container and leaf. */
function pathsOf(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  const paths = [path];
  if (Array.isArray(value))
    for (const [index, item] of value.entries()) paths.push(...pathsOf(item, [...path, index]));
  else if (value && typeof value === "object")
    for (const [key, item] of Object.entries(value)) paths.push(...pathsOf(item, [...path, key]));
  return paths;
}

type Mutation =
  | { kind: "replace"; at: Array<string | number>; value: unknown }
  | { kind: "remove"; at: Array<string | number> }
  | { kind: "add"; at: Array<string | number>; key: string; value: unknown };

function mutate(body: unknown, mutation: Mutation): unknown {
  // The body in a holder, so that the body itself is a place like any other.
  const holder: Record<string | number, unknown> = { body: structuredClone(body) };
  const at = ["body", ...mutation.at];
  const last = at.at(-1) as string | number;
  let parent = holder;
  for (const step of at.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const target = parent[last];
  if (mutation.kind === "replace") parent[last] = mutation.value;
  else if (mutation.kind === "remove") {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (target && typeof target === "object" && !Array.isArray(target))
    // Defined, not assigned: "__proto__" must become a key of the JSON, not the object's prototype.
    Object.defineProperty(target, mutation.key, { value: mutation.value, enumerable: true, writable: true });
  else parent[last] = { [mutation.key]: mutation.value };
  return holder.body;
}

/** A valid body of an API with one field replaced, removed or added. */
export function almostValid(api: string): fc.Arbitrary<unknown> {
  const bodies = validBodies[api] ?? [];
  const onEitherProvider = fc
    .tuple(fc.constantFrom(...bodies), fc.constantFrom(...models))
    .map(([body, model]) => ({ ...(body as object), model }));
  return onEitherProvider.chain((body) => {
    const at = fc.constantFrom(...pathsOf(body));
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant("replace" as const), at, value: replacement }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant("remove" as const), at }) },
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant("add" as const),
          at,
          key: fc.oneof(
            fc.string({ maxLength: 12 }),
            fc.constantFrom("__proto__", "constructor", "stream", "model"),
          ),
          value: replacement,
        }),
      },
    );
    return fc.oneof(
      { weight: 1, arbitrary: fc.constant(body) },
      { weight: 8, arbitrary: mutation.map((change) => mutate(body, change)) },
    );
  });
}

/** A body as bytes on the wire, with the content type it claims and the steering headers sent with it. */
export interface WireBody {
  contentType: string | undefined;
  bytes: string | Uint8Array;
  headers: Record<string, string>;
}

/** The gateway's own request headers, now and then, with any printable value. */
const steeringHeaders = fc
  .dictionary(
    fc.constantFrom(
      "x-gateway-priority",
      "x-gateway-tags",
      "x-gateway-min-quality",
      "x-gateway-max-cost",
      "x-gateway-cache",
      "x-gateway-cache-ttl",
      "cache-control",
    ),
    fc.oneof(
      fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
      fc.constantFrom("batch", "interactive", "a=b,c=d", "-1", "1e400", "no-store", "bypass"),
    ),
    { maxKeys: 2 },
  )
  .map((headers) => Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.trim()])));

const contentType = fc.oneof(
  { weight: 12, arbitrary: fc.constant("application/json") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "text/plain",
      "application/x-www-form-urlencoded",
      undefined,
    ),
  },
);

/** Anything a client could send an API: random bytes, random text, any JSON, or an almost valid body. */
export function wireBody(api: string): fc.Arbitrary<WireBody> {
  const bytes = fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 300 }) },
    { weight: 2, arbitrary: fc.jsonValue({ stringUnit: "binary" }).map(toJson) },
    { weight: 8, arbitrary: almostValid(api).map(toJson) },
  );
  const headers = fc.oneof(
    { weight: 4, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: steeringHeaders },
  );
  return fc.record({ contentType, bytes, headers });
}
