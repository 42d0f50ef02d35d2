#!/bin/sh
//bin/sh -c :; self="$(readlink -f "$0" 2>/dev/null || printf %s "$0")"; own="${self%/*}/../node_modules/.bin/node"; [ -x "$own" ] && exec "$own" "$self" "$@"; exec node "$self" "$@"
// The `ai-gateway` command: it runs the gateway (bin/gateway.ts) on the project's own Node, the
// optional dependency node-<platform>-<arch> that `npm ci` installs. npx starts a bin with npm's
// own Node first on the PATH, so this file starts as a shell script (the line above is a comment
// to JavaScript, a command to the shell) that execs the project's Node on itself: one Node start
// per command instead of two (BENCHMARKS.md, the CLI). Run by another Node (a Windows shim, a
// machine without the package), the JavaScript below hands over or refuses. Every other entry
// (npm start, the image, cluster up, the tests) already runs on the project's Node: npm scripts
// find node_modules/.bin/node first.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The oldest Node line still supported upstream; older ones get no security fixes. */
const oldestSupportedMajor = 22;
const gateway = join(dirname(fileURLToPath(import.meta.url)), "gateway.ts");

/** The project's own Node, when npm installed one for this platform. */
function projectNode() {
  const binary = process.platform === "win32" ? "node.exe" : "node";
  try {
    const manifest = createRequire(import.meta.url).resolve(
      `node-${process.platform}-${process.arch}/package.json`,
    );
    return join(dirname(manifest), "bin", binary);
  } catch {
    return undefined;
  }
}

const ownNode = projectNode();
const major = Number(process.versions.node.split(".")[0]);

if (ownNode === undefined || ownNode === process.execPath) {
  if (ownNode === undefined && major < oldestSupportedMajor) {
    process.stderr.write(
      `error: the gateway needs Node ${oldestSupportedMajor} or newer, and this is Node ${process.versions.node} ` +
        `(npm has no Node package for ${process.platform}-${process.arch} to install for you): ` +
        "install Node 24 from https://nodejs.org/ and run `npm ci` again\n",
    );
    process.exit(1);
  }
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(gateway).href);
} else {
  // Another Node started us: hand over to the project's own, as a child that shares our terminal.
  const child = spawn(ownNode, ["--import", import.meta.resolve("tsx"), gateway, ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  // Signals sent to this process are passed on (a Ctrl-C reaches both: the gateway takes a
  // repeated signal within a second as the same one).
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal, as a shell would report it.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
