import type { BenchConsumer, CommitPoint, ReceivedMessage } from "./client.ts";

/**
 * A worker's commits: every `intervalMs`, where each partition resumes once the requests answered
 * so far are behind it (a request counts as answered once its reply is sent).
 */
export class AnsweredOffsets {
  /** By partition, where the group resumes once answered requests are committed. */
  private readonly answered = new Map<string, CommitPoint>();
  private readonly committed = new Map<string, bigint>();
  private committing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly consumer: () => BenchConsumer,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => {
      this.committing = this.committing
        .then(() => this.commitAnswered())
        .catch((error: Error) => console.error(`worker commit failed: ${error.message}`));
    }, intervalMs);
  }

  answer({ topic, partition, offset, leaderEpoch }: ReceivedMessage): void {
    const partitionKey = `${topic}:${partition}`;
    const next = offset + 1n;
    // Replies of one partition are sent in the order their requests came; the check keeps the
    // point from going back if a retried send resolves late.
    if ((this.answered.get(partitionKey)?.next ?? -1n) < next)
      this.answered.set(partitionKey, { topic, partition, next, leaderEpoch });
  }

  /** Stops committing, once the commit under way is done. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.committing;
  }

  private async commitAnswered(): Promise<void> {
    const due = [...this.answered].filter(([key, point]) => this.committed.get(key) !== point.next);
    if (due.length === 0) return;
    await this.consumer().commit(due.map(([, point]) => point));
    for (const [key, point] of due) this.committed.set(key, point.next);
  }
}
