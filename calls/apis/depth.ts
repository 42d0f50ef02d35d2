import { GatewayError } from "../../schemas/errors.ts";

/** Segments of the path to a too-deep value named in the error: enough to point at the field. */
const namedSegments = 4;

/**
 * The error for a body whose arrays and objects nest more than `limit` levels deep (the body
 * itself is level 1), if it does. JSON.parse copes with any depth, but what runs after it recurses
 * (JSON.stringify of tool schemas and unmodelled options, cache keys, provider adapters) and would
 * run out of stack: a client's mistake would be a 500. So this runs first, and walks without recursion.
 */
export function depthError(body: unknown, limit: number): GatewayError | undefined {
  const path = tooDeep(body, limit);
  if (!path) return undefined;
  const param = path.slice(0, namedSegments).join(".");
  return new GatewayError(
    "invalid_request",
    `${param}: arrays and objects nest more than ${limit} levels deep here; this gateway accepts at most ${limit} (server.bodyDepthLimit)`,
    { param },
  );
}

/** An array or object being walked: its keys (none for an array: its indices) and how many are done. */
interface Frame {
  value: Record<string | number, unknown>;
  keys: string[] | undefined;
  length: number;
  done: number;
}

/**
 * The path to the first array or object deeper than `limit` levels, if any: depth first, the path
 * being the stack, so the walk holds at most `limit` frames whatever the size of the body.
 */
function tooDeep(body: unknown, limit: number): string[] | undefined {
  if (!isNested(body)) return undefined;
  const stack: Frame[] = [frameOf(body)];
  for (let frame = stack.at(-1); frame; frame = stack.at(-1)) {
    const keys = frame.keys;
    if (frame.done === frame.length) {
      stack.pop();
      continue;
    }
    const child = frame.value[keys ? (keys[frame.done] as string) : frame.done];
    frame.done++;
    if (!isNested(child)) continue;
    // Each frame's last key taken is the way down to the next one.
    if (stack.length === limit) return stack.map((at) => String(at.keys?.[at.done - 1] ?? at.done - 1));
    stack.push(frameOf(child));
  }
  return undefined;
}

function frameOf(value: object): Frame {
  const keys = Array.isArray(value) ? undefined : Object.keys(value);
  return {
    value: value as Frame["value"],
    keys,
    length: keys?.length ?? (value as unknown[]).length,
    done: 0,
  };
}

function isNested(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}
