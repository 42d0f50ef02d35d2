import { GenericContainer, getContainerRuntimeClient, Wait } from "testcontainers";
import { freePort } from "../../runtime/free-port.ts";
import type { ClickHouseEndpoint, KafkaEndpoint, RedisEndpoint, RunningService } from "./endpoints.ts";

// The official images, at the versions the project pins (same as docker-compose.yml).
export const images = {
  kafka: "apache/kafka:4.4.0",
  clickhouse: "clickhouse/clickhouse-server:26.7",
  redis: "redis:7.4",
} as const;

/** True when a Docker (or compatible) engine answers. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startDockerKafka(): Promise<RunningService<KafkaEndpoint>> {
  const host = (await getContainerRuntimeClient()).info.containerRuntime.host;
  // The broker must advertise the address clients reach it at, so the host port is chosen first.
  const hostPort = await freePort();
  const container = await new GenericContainer(images.kafka)
    .withExposedPorts({ container: 9092, host: hostPort })
    .withEnvironment({
      KAFKA_NODE_ID: "1",
      KAFKA_PROCESS_ROLES: "broker,controller",
      KAFKA_LISTENERS: "PLAINTEXT://:9092,CONTROLLER://:9093",
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort}`,
      KAFKA_CONTROLLER_LISTENER_NAMES: "CONTROLLER",
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      KAFKA_CONTROLLER_QUORUM_VOTERS: "1@localhost:9093",
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: "1",
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: "1",
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: "0",
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: "false",
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  return { endpoint: { brokers: [`${host}:${hostPort}`] }, stop: async () => void (await container.stop()) };
}

export async function startDockerClickHouse(): Promise<RunningService<ClickHouseEndpoint>> {
  const container = await new GenericContainer(images.clickhouse)
    .withExposedPorts(8123)
    // Access management, as docker-compose.yml gives it: the migrations create the reader user.
    .withEnvironment({
      CLICKHOUSE_USER: "gateway",
      CLICKHOUSE_PASSWORD: "gateway",
      CLICKHOUSE_DB: "default",
      CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT: "1",
    })
    .withWaitStrategy(Wait.forHttp("/ping", 8123).forStatusCode(200))
    .start();
  return {
    endpoint: {
      url: `http://${container.getHost()}:${container.getMappedPort(8123)}`,
      username: "gateway",
      password: "gateway",
    },
    stop: async () => void (await container.stop()),
  };
}

export async function startDockerRedis(): Promise<RunningService<RedisEndpoint>> {
  const container = await new GenericContainer(images.redis)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start();
  return {
    endpoint: { url: `redis://${container.getHost()}:${container.getMappedPort(6379)}` },
    stop: async () => void (await container.stop()),
  };
}
