interface Waiting<Message> {
  message: Message;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Gathers what is sent within one turn of the event loop into one send, as CoalescingProducer
 * (lingerMs 0, at most 500 a batch) does for kafkajs: the same batching for the client it does not
 * take. @platformatic/kafka's own producer stream batches too, but behind a timer (batchTime) and
 * with one batch in flight at a time, which would not compare like with like.
 */
export class TurnBatcher<Message> {
  private waiting: Array<Waiting<Message>> = [];
  private scheduled = false;

  constructor(
    private readonly sendBatch: (messages: Message[]) => Promise<unknown>,
    private readonly maxBatch = 500,
  ) {}

  send(message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ message, resolve, reject });
      if (this.waiting.length >= this.maxBatch) void this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  async close(): Promise<void> {
    while (this.waiting.length > 0) await this.flush();
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting.splice(0, this.maxBatch);
    if (batch.length === 0) return;
    try {
      await this.sendBatch(batch.map((entry) => entry.message));
      for (const entry of batch) entry.resolve();
    } catch (error) {
      for (const entry of batch) entry.reject(error as Error);
    }
  }
}
