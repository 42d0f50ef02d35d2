import { type ChildProcess, fork } from "node:child_process";

type Handlers = Record<string, (argument: unknown) => unknown>;

interface Call {
  id: number;
  method: string;
  argument: unknown;
}

type Reply =
  | { id: number; result: unknown }
  | { id: number; error: string }
  | { event: string; data: unknown };

/** A bench process run by this one over IPC: its methods called, its events heard. */
export interface ChildRpc {
  pid: number;
  call<Result>(method: string, argument?: unknown): Promise<Result>;
  onEvent(listener: (event: string, data: unknown) => void): void;
  /** Asks it to close its clients and exit; kills it if it has not within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `script` (TypeScript, through tsx) as a Node process of its own, so its CPU time is its own. */
export function forkChild(script: URL, argument: unknown): ChildRpc {
  const child: ChildProcess = fork(script, [JSON.stringify(argument)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const listeners: Array<(event: string, data: unknown) => void> = [];
  let nextId = 0;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const { reject } of waiting.values())
        reject(new Error(`${script.pathname} exited (${signal ?? code}) during a call`));
      resolve();
    }),
  );
  child.on("message", (reply: Reply) => {
    if ("event" in reply) for (const listener of listeners) listener(reply.event, reply.data);
    else {
      const call = waiting.get(reply.id);
      waiting.delete(reply.id);
      if ("error" in reply) call?.reject(new Error(reply.error));
      else call?.resolve(reply.result);
    }
  });
  return {
    pid: child.pid as number,
    call: <Result>(method: string, argument?: unknown) =>
      new Promise<Result>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, method, argument } satisfies Call);
      }),
    onEvent: (listener) => void listeners.push(listener),
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ id: nextId++, method: "stop", argument: null } satisfies Call);
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** In a forked bench process: the argument it was started with. */
export function startArgument<Argument>(): Argument {
  return JSON.parse(process.argv[2] ?? "{}") as Argument;
}

/** In a forked bench process: answers its parent's calls with `handlers`. */
export function serveParent(handlers: Handlers): void {
  process.on("message", async ({ id, method, argument }: Call) => {
    const handler = handlers[method];
    try {
      if (!handler) throw new Error(`no method ${method}`);
      process.send?.({ id, result: await handler(argument) } satisfies Reply);
    } catch (error) {
      process.send?.({ id, error: (error as Error).stack ?? String(error) } satisfies Reply);
    }
  });
}

/** In a forked bench process: tells its parent something happened. */
export function tellParent(event: string, data: unknown): void {
  process.send?.({ event, data } satisfies Reply);
}
