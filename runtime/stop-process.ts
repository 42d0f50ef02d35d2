import { readFileSync } from "node:fs";

/**
 * Stops a process we started in its own process group (its pid is the group's id): SIGTERM to the
 * process, so that it shuts down cleanly, then, if it has not exited within `boundMs`, SIGKILL to
 * its whole group. Resolves once it is gone: `stopped` (it exited on SIGTERM), `killed`, or `gone`
 * (it was not running).
 */
export async function stopProcess(pid: number, boundMs: number): Promise<"stopped" | "killed" | "gone"> {
  if (!signal(pid, "SIGTERM")) return "gone";
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return "stopped";
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  signal(-pid, "SIGKILL");
  while (isRunning(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
  return "killed";
}

/** True while `pid` is a live process (a zombie, exited but not yet reaped, counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  const state = procStat(pid)?.[0];
  return state !== "Z" && state !== "X";
}

/**
 * When the process `pid` started (clock ticks since boot, from /proc), to tell it from a later
 * process given the same pid; undefined where /proc is not (then a pid is trusted as it is).
 */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** The fields of /proc/<pid>/stat after the command name (state first), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name, in parentheses, may hold spaces and parentheses itself: split after its end.
    return stat
      .slice(stat.lastIndexOf(")") + 2)
      .trim()
      .split(" ");
  } catch {
    return undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}
