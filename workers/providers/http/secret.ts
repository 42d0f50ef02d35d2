import type { Provider } from "../provider.ts";

/**
 * The provider with `secret` cut out of every error it throws. For a key that travels in the URL
 * (Gemini's `?key=`): a proxy or a transport error that quotes the URL it was asked would otherwise
 * carry the key into the caller's error, the logs and the analytics.
 */
export function hidingSecret(provider: Provider, secret: string): Provider {
  // As written, and as a URL carries it (a path's encoding and a query's differ on a few characters).
  const asQueryValue = new URLSearchParams({ secret }).toString().slice("secret=".length);
  const forms = [...new Set([secret, encodeURIComponent(secret), asQueryValue])];
  const hidden = (error: unknown) => {
    if (!(error instanceof Error)) return error;
    for (const form of forms) {
      error.message = error.message.replaceAll(form, "[redacted]");
      if (error.stack) error.stack = error.stack.replaceAll(form, "[redacted]");
    }
    return error;
  };
  const { countTokens } = provider;
  return {
    async *chat(request, options) {
      try {
        yield* provider.chat(request, options);
      } catch (error) {
        throw hidden(error);
      }
    },
    embed: (request, options) =>
      provider.embed(request, options).catch((error: unknown) => {
        throw hidden(error);
      }),
    ...(countTokens && {
      countTokens: (request, options) =>
        countTokens.call(provider, request, options).catch((error: unknown) => {
          throw hidden(error);
        }),
    }),
  };
}
