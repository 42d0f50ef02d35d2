/**
 * A call that failed: the gateway's own message (OpenAI's `{"error": {"message"}}`), or why it
 * could not be reached, with what to do next where the CLI knows it.
 */
export class GatewayRequestError extends Error {}

/** A gateway to call, the key to send, and what to say when the gateway refuses that key. */
export interface Connection {
  url: string;
  key: string;
  /** Which key to fix, and how, when the gateway answers 401 or 403. */
  refusedKeyHint: string;
}

/**
 * Calls to a gateway with a key, as the CLI makes them. `url` is the gateway's root; a trailing
 * `/v1` (the base URL an OpenAI SDK is given) is accepted too. A non-2xx answer throws its message.
 */
export function gatewayHttp({ url, key, refusedKeyHint }: Connection) {
  const root = url.replace(/\/+$/, "").replace(/\/v1$/, "");

  async function call(method: string, path: string, body?: FormData | object): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${key}` };
    let payload: FormData | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers["content-type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, { method, headers, body: payload });
    } catch (error) {
      const cause = (error as Error & { cause?: Error }).cause;
      throw new GatewayRequestError(
        `cannot reach the gateway at ${root} (${cause?.message ?? (error as Error).message}): start it with \`npm start\`, or set GATEWAY_URL (or --url) to where it runs`,
      );
    }
    if (!response.ok) {
      const message = await errorMessage(response);
      const refused = response.status === 401 || response.status === 403;
      throw new GatewayRequestError(refused ? `${message}; ${refusedKeyHint}` : message);
    }
    return response;
  }

  return {
    call,
    json: async <T>(method: string, path: string, body?: FormData | object): Promise<T> =>
      (await (await call(method, path, body)).json()) as T,
  };
}

/** The message of an OpenAI-shaped error body, or what the status says when the body is not one. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not JSON (a proxy's error page): fall through to the status.
  }
  return `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`;
}
