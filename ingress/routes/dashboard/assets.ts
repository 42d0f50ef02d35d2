import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { FastifyPluginAsync } from "fastify";
import { sessionWho, type Who } from "./session.ts";

/** What the browser is sent: the bundle and its style sheet, named by their content's hash. */
interface Asset {
  body: Buffer;
  type: string;
  hash: string;
}

const entry = fileURLToPath(new URL("../../../ui/main.tsx", import.meta.url));

/**
 * The dashboard's code, bundled from ui/ with esbuild when the ingress starts (about a tenth of a
 * second, in memory): nothing is built at install and nothing built is kept in git, and every
 * ingress serves the code of its own release. No CDN: the page loads nothing from elsewhere.
 */
async function bundle(): Promise<Map<string, Asset>> {
  const result = await build({
    entryPoints: { app: entry },
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: "out",
    write: false,
    logLevel: "silent",
  });
  const assets = new Map<string, Asset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf("/") + 1);
    const body = Buffer.from(file.contents);
    const type = name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
    assets.set(name, { body, type, hash: createHash("sha256").update(body).digest("hex").slice(0, 16) });
  }
  return assets;
}

/**
 * Nothing but this origin's own scripts and styles; no inline script, no frames, no form posting
 * elsewhere. Styles the code sets on elements (charts do) are not style attributes, which this
 * forbids too.
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The page at /ui, its code and its styles. */
export const dashboardAssets: FastifyPluginAsync = async (app) => {
  const built = bundle();
  // A failed build must not become an unhandled rejection before the first request awaits it.
  built.catch((error: Error) => app.log.error({ err: error }, "the dashboard could not be built"));
  app.addHook("onSend", async (_request, reply) => {
    reply.header("content-security-policy", contentSecurityPolicy);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
  });
  app.get("/ui/assets/:name", async (request, reply) => {
    const { name } = request.params as { name: string };
    const asset = (await built).get(name);
    if (!asset) return reply.code(404).type("text/plain").send("no such asset");
    return reply
      .type(asset.type)
      .header("cache-control", "no-cache")
      .header("etag", `"${asset.hash}"`)
      .send(asset.body);
  });
  const page = async (who: Who | undefined) => {
    const assets = await built;
    const version = (name: string) => assets.get(name)?.hash ?? "";
    // Names in it are chosen by users: escaped for an attribute, and never run (it is not a script).
    const session = who
      ? `\n<meta name="gateway-session" content="${escapeAttribute(JSON.stringify(who))}">`
      : "";
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ai-gateway</title>${session}
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/app.css?v=${version("app.css")}">
<script type="module" src="/ui/assets/app.js?v=${version("app.js")}"></script>
</head>
<body><div id="app"></div></body>
</html>
`;
  };
  // The app routes itself by the URL's fragment (#/requests …): one page serves every view.
  // A signed-in browser's page carries its session (and CSRF token): never kept by a cache.
  app.get("/ui", async (request, reply) =>
    reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-store")
      .send(await page(sessionWho(app, request))),
  );
};

function escapeAttribute(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll('"', "&quot;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}
