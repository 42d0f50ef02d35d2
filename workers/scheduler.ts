import type { Delivery, DeliverySink } from "../bus/messaging.ts";
import { type Priority, priorities } from "../schemas/request-envelope.ts";
import { estimatedPromptTokens, expectedOutputTokens } from "../schemas/request-size.ts";
import { BatchThrottle } from "./batch-throttle.ts";
import { FairQueue } from "./fair-queue.ts";

/** Prompt and expected output of a delivered request: what it will cost a provider account, roughly. */
const estimatedTokens = ({ envelope }: Delivery) =>
  estimatedPromptTokens(envelope) + expectedOutputTokens(envelope);

/** Who a request is for, for fairness: its team when it has one, else its gateway key. */
const tenantOf = (delivery: Delivery) => delivery.envelope.caller.team ?? delivery.envelope.caller.keyId;

export interface SchedulerOptions {
  /** Requests run at once. */
  concurrency: number;
  /** Most of `concurrency` each priority may use. */
  share: Record<Priority, number>;
  /** Batch lines yield when another request waited longer than this to start (0: they only keep to their share). */
  batchYieldWaitMs: number;
}

/** How often the batch limit may change (see BatchThrottle). */
const batchThrottleWindowMs = 250;

/**
 * How many times in a row a waiting priority may be passed over for a higher one before it is
 * served once: higher priorities go first, lower ones still get 1/(patience+1) of the slots that
 * free up while everything is contended.
 */
const patience: Record<Priority, number> = { interactive: 0, default: 3, batch: 15 };

/**
 * A worker's local queues, one per priority, and its slots. Each queue (fair between tenants, see
 * FairQueue) holds at most twice as many requests as that priority may run; when one fills up,
 * the bus pauses that priority (its requests stay in Kafka for other workers) until there is room
 * again.
 */
export class PriorityScheduler implements DeliverySink {
  private readonly queues = Object.fromEntries(
    priorities.map((p) => [p, new FairQueue<Delivery>(tenantOf, estimatedTokens)]),
  ) as Record<Priority, FairQueue<Delivery>>;
  private readonly running = Object.fromEntries(priorities.map((p) => [p, 0])) as Record<Priority, number>;
  private readonly passedOver = Object.fromEntries(priorities.map((p) => [p, 0])) as Record<Priority, number>;
  private readonly limit: Record<Priority, number>;
  /** Waiting requests a priority may hold: twice what it may run, so that the fair queue has tenants to choose from. */
  private readonly depth: Record<Priority, number>;
  private readonly full = new Set<Priority>();
  private readonly batchThrottle: BatchThrottle;
  private total = 0;
  private accepting = true;

  constructor(
    private readonly options: SchedulerOptions,
    private readonly run: (delivery: Delivery, priority: Priority) => Promise<void>,
    private readonly hasRoomAgain: (priority: Priority) => void,
  ) {
    this.limit = Object.fromEntries(
      priorities.map((p) => [p, Math.max(1, Math.floor(options.concurrency * options.share[p]))]),
    ) as Record<Priority, number>;
    this.batchThrottle = new BatchThrottle(this.limit.batch, options.batchYieldWaitMs, batchThrottleWindowMs);
    this.depth = Object.fromEntries(priorities.map((p) => [p, 2 * this.limit[p]])) as Record<
      Priority,
      number
    >;
  }

  offer(priority: Priority, delivery: Delivery): boolean {
    const queue = this.queues[priority];
    queue.push(delivery);
    this.pump();
    const hasRoom = queue.length < this.depth[priority];
    if (!hasRoom) this.full.add(priority);
    return hasRoom;
  }

  /** Requests running now. */
  get inFlight(): number {
    return this.total;
  }

  /** How many batch lines may run at once now (adapted to the other priorities' waits). */
  get batchLimit(): number {
    return this.batchThrottle.limit;
  }

  /** A priority's requests waiting in this worker's queue and running in its slots. */
  load(priority: Priority): { queued: number; running: number } {
    return { queued: this.queues[priority].length, running: this.running[priority] };
  }

  /** Starts nothing more; queued requests stay unsettled, so the bus hands them to another worker. */
  stopAccepting(): void {
    this.accepting = false;
  }

  private pump(): void {
    while (this.accepting && this.total < this.options.concurrency) {
      const priority = this.next();
      if (!priority) return;
      const delivery = this.queues[priority].take() as Delivery;
      if (this.full.has(priority) && this.queues[priority].length < this.resumeBelow(priority)) {
        this.full.delete(priority);
        this.hasRoomAgain(priority);
      }
      if (!delivery.stillOwned()) continue; // another worker has it now
      if (priority !== "batch")
        this.batchThrottle.observeWait(Math.max(0, Date.now() - delivery.envelope.receivedAtMs));
      this.running[priority]++;
      this.total++;
      void this.run(delivery, priority).finally(() => {
        this.running[priority]--;
        this.total--;
        this.pump();
      });
    }
  }

  /**
   * A paused priority resumes at the first free place, so that a newly arrived tenant is among
   * those the fair queue chooses from; batch, whose queue is full most of the time, at half depth:
   * each resume costs the consumer a fetch (on Kafka, up to a megabyte per partition read and
   * decoded again), so it should bring many lines, not one.
   */
  private resumeBelow(priority: Priority): number {
    return priority === "batch" ? Math.ceil(this.depth.batch / 2) : this.depth[priority];
  }

  /** The highest eligible priority, unless a lower one has waited its patience out. */
  private next(): Priority | undefined {
    const batchLimit = this.batchThrottle.limit;
    const batchWaits = this.queues.batch.length > 0 && this.running.batch >= batchLimit;
    this.batchThrottle.poll(batchWaits);
    const limitOf = (p: Priority) => (p === "batch" ? this.batchThrottle.limit : this.limit[p]);
    const eligible = priorities.filter((p) => this.queues[p].length > 0 && this.running[p] < limitOf(p));
    const [first, ...lower] = eligible;
    if (!first) return undefined;
    const starved = lower.find((p) => this.passedOver[p] >= patience[p]);
    const chosen = starved ?? first;
    for (const p of eligible) this.passedOver[p] = p === chosen ? 0 : this.passedOver[p] + 1;
    return chosen;
  }
}
