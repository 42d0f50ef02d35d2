import type { HttpClient, HttpResponse } from "../http/client.ts";
import type { AccessTokens } from "./access-tokens.ts";

/**
 * Vertex AI's host for a location: regional endpoints are `{location}-aiplatform.googleapis.com`,
 * the global location (models served from any region) is `aiplatform.googleapis.com`.
 */
export function vertexBaseUrl(location: string): string {
  return location === "global"
    ? "https://aiplatform.googleapis.com"
    : `https://${location}-aiplatform.googleapis.com`;
}

/** The publishers whose models the adapter speaks to, each in its own wire format. */
export type Publisher = "google" | "anthropic";

/** A model's publisher: Claude models are Anthropic's (Messages format), every other one Google's (Gemini format). */
export const publisherOf = (model: string): Publisher =>
  model.startsWith("claude") ? "anthropic" : "google";

/** One project and location of Vertex AI, called with the provider's access tokens. */
export interface VertexEndpoint {
  /** `POST` a model's method (`generateContent`, `rawPredict` …; a query may follow). */
  post(
    publisher: Publisher,
    model: string,
    method: string,
    body: unknown,
    headers: Record<string, string> | undefined,
    signal: AbortSignal,
  ): Promise<HttpResponse>;
}

export function vertexEndpoint(
  http: HttpClient,
  tokens: AccessTokens,
  project: string,
  location: string,
): VertexEndpoint {
  // '@' names a Claude version (claude-sonnet-4@20250514) and is kept as it is: a path may hold it.
  const segment = (value: string) => encodeURIComponent(value).replaceAll("%40", "@");
  const base = `/v1/projects/${segment(project)}/locations/${segment(location)}/publishers`;
  return {
    async post(publisher, model, method, body, headers, signal) {
      const path = `${base}/${publisher}/models/${segment(model)}:${method}`;
      const send = async (token: string) =>
        http.post(path, body, { authorization: `Bearer ${token}`, ...headers }, signal);
      const token = await tokens.current();
      const response = await send(token);
      // A token Vertex no longer takes (revoked, or expired early) is dropped and the call made once more with a new one.
      if (response.status !== 401 || !tokens.refused(token)) return response;
      await response.body.dump();
      return send(await tokens.current());
    },
  };
}
