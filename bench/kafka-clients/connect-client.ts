import type { BenchClient, ClientName } from "./client.ts";

/** The client of that name. A file of its own: the clients import client.ts, which must not import them back. */
export async function connectClient(name: ClientName, brokers: string[]): Promise<BenchClient> {
  // Imported on demand: a process loads only the library it measures.
  if (name === "kafkajs") return (await import("./kafkajs-client.ts")).kafkajsClient(brokers);
  return (await import("./platformatic-client.ts")).platformaticClient(brokers);
}
