/**
 * Which offsets of one partition may be committed when work finishes out of order. A worker runs
 * many requests of a partition at once; committing offset N tells Kafka that everything below N
 * is done, so the commit point is the lowest offset still outstanding. Offsets finished above it
 * are remembered, so that when Kafka hands them out again (it re-fetches from the commit point
 * after a rebalance) they are recognised and not run twice.
 */
export class PartitionOffsets {
  /** Offsets received and not yet finished. */
  private readonly outstanding = new Set<bigint>();
  /** Offsets finished above the commit point. */
  private readonly finishedAhead = new Set<bigint>();
  private highestSeen = -1n;
  private committed: bigint | undefined;

  /** False if this offset is already queued, running or finished: skip the message. */
  receive(offset: bigint): boolean {
    if (this.outstanding.has(offset) || this.finishedAhead.has(offset)) return false;
    if (this.committed !== undefined && offset < this.committed) return false;
    this.outstanding.add(offset);
    if (offset > this.highestSeen) this.highestSeen = offset;
    return true;
  }

  finish(offset: bigint): void {
    if (this.outstanding.delete(offset)) this.finishedAhead.add(offset);
  }

  /** The offset to commit now (the next one to read), or undefined when nothing new is done. */
  commitPoint(): bigint | undefined {
    let point = this.highestSeen + 1n;
    for (const offset of this.outstanding) if (offset < point) point = offset;
    if (this.committed !== undefined && point <= this.committed) return undefined;
    if (point === 0n) return undefined;
    return point;
  }

  /** The broker accepted a commit at `point`. */
  committedAt(point: bigint): void {
    this.committed = point;
    for (const offset of this.finishedAhead) if (offset < point) this.finishedAhead.delete(offset);
  }
}
