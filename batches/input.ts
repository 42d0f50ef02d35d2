import { type Static, Type as T } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { anthropicMessages } from "../calls/apis/anthropic-messages/index.ts";
import type { InboundApi, ParsedCall } from "../calls/apis/api.ts";
import { depthError } from "../calls/apis/depth.ts";
import { openAIChat } from "../calls/apis/openai-chat/index.ts";
import { openAIEmbeddings } from "../calls/apis/openai-embeddings/index.ts";
import { validateBody } from "../calls/apis/validate.ts";
import { GatewayError } from "../schemas/errors.ts";
import type { BatchError } from "./store.ts";

/** The endpoints a batch line may call: each is one of the gateway's inbound APIs. */
export const batchEndpoints: Readonly<Record<string, InboundApi<unknown>>> = {
  "/v1/chat/completions": openAIChat as InboundApi<unknown>,
  "/v1/embeddings": openAIEmbeddings as InboundApi<unknown>,
  "/v1/messages": anthropicMessages as InboundApi<unknown>,
};

/** One line of OpenAI's batch input format (Anthropic's batches are stored in it too). */
const inputLine = T.Object({
  custom_id: T.String({ minLength: 1, maxLength: 512 }),
  method: T.Literal("POST"),
  url: T.String(),
  body: T.Object({}),
});
const checkLine = TypeCompiler.Compile(inputLine);

/** A request of a batch, read and validated. */
export interface InputLine {
  /** Its index among the requests, from 0: how results refer to it. */
  index: number;
  /** Its line in the file, from 1, for error messages. */
  lineNumber: number;
  customId: string;
  url: string;
  api: InboundApi<unknown>;
  parsed: ParsedCall;
}

/** Problems reported at most, so that a wholly wrong file does not make a megabyte of errors. */
const maxProblems = 20;

/**
 * Reads a JSONL batch input: one request a line, `{custom_id, method: "POST", url, body}`, the
 * body valid for its endpoint's API and nested at most `limits.bodyDepth` levels deep, as an HTTP
 * body. Every problem names its line; custom_ids must be unique. Blank lines are skipped.
 */
export function readBatchInput(
  content: Buffer,
  limits: { maxLines: number; bodyDepth: number },
): { lines: InputLine[]; problems: BatchError[] } {
  const { maxLines } = limits;
  const lines: InputLine[] = [];
  const problems: BatchError[] = [];
  const customIds = new Set<string>();
  const problem = (lineNumber: number, message: string, param: string | null = null) => {
    if (problems.length < maxProblems)
      problems.push({
        code: "invalid_request",
        message: `line ${lineNumber}: ${message}`,
        line: lineNumber,
        param,
      });
  };
  const text = content.toString("utf8");
  let lineNumber = 0;
  for (const raw of text.split("\n")) {
    lineNumber++;
    if (raw.trim() === "") continue;
    if (lines.length + problems.length >= maxLines) {
      problem(lineNumber, `the file holds more than ${maxLines} requests`);
      break;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      problem(lineNumber, `not valid JSON (${(error as Error).message})`);
      continue;
    }
    if (!checkLine.Check(value)) {
      const first = checkLine.Errors(value).First();
      const param = first?.path.split("/").filter(Boolean).join(".") || null;
      problem(
        lineNumber,
        `${param ?? "the line"}: ${first?.message ?? "invalid"}; expected {custom_id, method: "POST", url, body}`,
        param,
      );
      continue;
    }
    const line = value as Static<typeof inputLine>;
    const api = batchEndpoints[line.url];
    if (!api) {
      problem(lineNumber, `url ${line.url} is not one of ${Object.keys(batchEndpoints).join(", ")}`, "url");
      continue;
    }
    if (customIds.has(line.custom_id)) {
      problem(
        lineNumber,
        `custom_id ${JSON.stringify(line.custom_id)} is used by an earlier line; each must be unique`,
        "custom_id",
      );
      continue;
    }
    customIds.add(line.custom_id);
    try {
      const tooDeep = depthError(line.body, limits.bodyDepth);
      if (tooDeep) throw tooDeep;
      const parsed = api.parse(validateBody(api.bodySchema, line.body));
      parsed.stream = false;
      lines.push({
        index: lines.length,
        lineNumber,
        customId: line.custom_id,
        url: line.url,
        api,
        parsed,
      });
    } catch (error) {
      // A line at fault is the caller's to mend; anything else is the gateway's own failure, for
      // the caller's route to answer (and log) as such, not to be passed off as a bad line.
      if (!(error instanceof GatewayError)) throw error;
      const param = error.details.param;
      problem(
        lineNumber,
        param ? `body.${error.message}` : `body: ${error.message}`,
        param ? `body.${param}` : "body",
      );
    }
  }
  if (lines.length === 0 && problems.length === 0)
    problems.push({
      code: "invalid_request",
      message: "the file holds no requests",
      line: null,
      param: null,
    });
  return { lines, problems };
}
