import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { kafkaJarsCached } from "../../local-services/kafka.ts";

/** What each program is for and how to get it, in the order they are checked. */
const programs = [
  {
    name: "java",
    install: "a Java runtime, 17 or newer (e.g. apt install openjdk-17-jre-headless), for Kafka",
  },
  { name: "mvn", install: "Maven (e.g. apt install maven), which fetches Kafka's jars once" },
  { name: "redis-server", install: "Redis (e.g. apt install redis-server)" },
  { name: "python3", install: "Python 3, which runs the embedded ClickHouse" },
];

/**
 * One sentence saying what to install, when a program the local cluster runs is not on the PATH;
 * undefined when nothing is missing. Maven is needed only while Kafka's jars are not cached.
 */
export function missingPrerequisites(): string | undefined {
  const missing = programs.filter(
    ({ name }) =>
      !(name === "mvn" && kafkaJarsCached()) &&
      !onPath(name === "python3" ? (process.env.PYTHON ?? name) : name),
  );
  if (missing.length === 0) return undefined;
  return `ai-gateway cluster runs Kafka, Redis and ClickHouse on this machine and needs ${missing
    .map(({ name, install }) => `${name} (${install})`)
    .join(", ")} on the PATH.`;
}

function onPath(program: string): boolean {
  const candidates = program.includes("/")
    ? [program]
    : (process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, program));
  return candidates.some((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
