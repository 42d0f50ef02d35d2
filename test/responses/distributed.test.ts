import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testKey, testSettings } from "../support/gateway.ts";
import { type GatewayProcess, spawnGateway } from "../support/processes.ts";

/**
 * Stored responses in the distributed shape: two gateway processes on Kafka and Redis (one with
 * every role, one only an ingress). A conversation goes back and forth between the two ingresses,
 * each turn continuing the one the other stored.
 */
describe("stored responses across ingress processes", () => {
  const processes: GatewayProcess[] = [];
  let clients: [OpenAI, OpenAI];

  beforeAll(async () => {
    const settings = testSettings("kafka", { log: { level: "info" } });
    // The full process first: its sink applies the migrations.
    processes.push(await spawnGateway(settings, "all"));
    processes.push(await spawnGateway(settings, "ingress"));
    const client = (process: GatewayProcess) =>
      new OpenAI({ baseURL: `${process.url}/v1`, apiKey: testKey, maxRetries: 0 });
    clients = [client(processes[0] as GatewayProcess), client(processes[1] as GatewayProcess)];
  });
  afterAll(async () => {
    for (const process of processes) process.kill("SIGTERM");
    await Promise.all(processes.map((process) => process.exited));
  });

  it("continues, retrieves, lists and deletes through either ingress", async () => {
    const [one, two] = clients;
    const first = await one.responses.create({ model: "mock", input: "alpha" });
    const second = await two.responses
      .stream({ model: "mock", input: "beta", previous_response_id: first.id })
      .finalResponse();
    // The mock counts each word of the conversation it is sent: the first turn came from the other ingress.
    expect(second.usage?.input_tokens).toBe(1 + 3 + 1);
    const third = await one.responses.create({
      model: "mock",
      input: "gamma",
      previous_response_id: second.id,
    });
    expect(third.usage?.input_tokens).toBe(5 + 3 + 1);

    expect(await two.responses.retrieve(third.id)).toEqual(third);
    const items = await two.responses.inputItems.list(third.id, { order: "asc" });
    expect(items.data.map((item) => item.type)).toEqual([
      "message",
      "message",
      "message",
      "message",
      "message",
    ]);
    await two.responses.delete(first.id);
    await expect(one.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
  });
});
