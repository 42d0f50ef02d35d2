/** What the floor's ingress and worker processes are told at start. */
export interface FloorSetup {
  brokers: string[];
  /** The three priority topics, as in the gateway; the ingress publishes on the first. */
  requestTopics: string[];
  workerGroup: string;
  redisUrl: string;
  /** The upstream's OpenAI base URL, ending in /v1. */
  upstreamUrl: string;
  /** The ingress's HTTP port. */
  port: number;
}

/** A request as it crosses Kafka: where its reply goes, and the caller's body as it came. */
export interface FloorRequest {
  id: string;
  replyTo: string;
  path: string;
  authorization: string;
  body: string;
}

/** A reply as it crosses Redis: the upstream's answer as it came. */
export interface FloorReply {
  id: string;
  status: number;
  contentType: string;
  body: string;
}
