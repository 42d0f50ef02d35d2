import type {} from "vitest";

/** Where each real service of a test run answers, and how it was provided. */
export interface ServiceEndpoints {
  kafka: KafkaEndpoint;
  clickhouse: ClickHouseEndpoint;
  redis: RedisEndpoint;
  provenance: Record<ServiceName, Provenance>;
}

export interface KafkaEndpoint {
  brokers: string[];
}
export interface ClickHouseEndpoint {
  url: string;
  username: string;
  password: string;
}
export interface RedisEndpoint {
  url: string;
}

export type ServiceName = "kafka" | "clickhouse" | "redis";
/** `environment`: given by the user; `docker`: testcontainers; `local`: a process started by our scripts. */
export type Provenance = "environment" | "docker" | "local";

export interface RunningService<Endpoint> {
  endpoint: Endpoint;
  stop(): Promise<void>;
}

declare module "vitest" {
  export interface ProvidedContext {
    services: ServiceEndpoints;
  }
}
