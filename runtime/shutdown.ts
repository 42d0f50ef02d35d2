import type { Logger } from "./logger.ts";

/** One part of a process as its shutdown sees it. */
export interface StoppingPart {
  name: string;
  /** What is left behind if it cannot stop in time (said in the log, so an operator knows what to check). */
  leftBehind?: string;
  stop(): Promise<void>;
}

/** However much time the first parts took, a later part still gets this long to stop. */
const partMinimumMs = 500;

/**
 * The parts of a process, stopped in the reverse order they started, each within what is left of
 * `budgetMs` (but at least half a second). A part that does not stop in time — a broker, Redis or
 * ClickHouse that stopped answering — is logged with what it leaves behind and given up on, so a
 * shutdown ends in bounded time whatever the services do: at most `budgetMs` plus half a second a part.
 */
export class Shutdown {
  private readonly parts: StoppingPart[] = [];

  constructor(private readonly log: Logger) {}

  add(part: StoppingPart): void {
    this.parts.push(part);
  }

  async run(budgetMs: number): Promise<void> {
    const deadline = Date.now() + budgetMs;
    for (const part of this.parts.splice(0).reverse()) {
      const allowedMs = Math.max(partMinimumMs, deadline - Date.now());
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        part.stop().then(
          () => "stopped" as const,
          (error: Error) => error,
        ),
        new Promise<"late">((resolve) => {
          timer = setTimeout(resolve, allowedMs, "late");
        }),
      ]);
      clearTimeout(timer);
      if (outcome === "late")
        this.log.error(
          { part: part.name, waitedMs: allowedMs, leftBehind: part.leftBehind },
          `${part.name} did not stop in time; given up on`,
        );
      else if (outcome !== "stopped")
        this.log.error(
          { err: outcome, part: part.name, leftBehind: part.leftBehind },
          `${part.name} failed to stop`,
        );
    }
  }
}
