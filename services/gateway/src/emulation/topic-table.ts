// Members of fan-out topics kept in JavaScript, for the sockets uWebSockets' native topics cannot
// hold (HTTP-streaming, SSE and unidirectional sessions). Topics disappear with their last member,
// so `size` is 0 — and the hub's sink skips the table — while no such socket is subscribed.
export class TopicTable<M> {
  private readonly topics = new Map<string, Set<M>>();

  /** Topics with at least one member. */
  get size(): number {
    return this.topics.size;
  }

  add(topic: string, member: M): void {
    let set = this.topics.get(topic);
    if (set === undefined) this.topics.set(topic, (set = new Set()));
    set.add(member);
  }

  remove(topic: string, member: M): void {
    const set = this.topics.get(topic);
    if (set !== undefined && set.delete(member) && set.size === 0) this.topics.delete(topic);
  }

  /** Adds `member` to `topic` and records the topic in the member's own list of joined topics. */
  join(joined: string[], topic: string, member: M): void {
    joined.push(topic);
    this.add(topic, member);
  }

  /** Removes `member` from `topic` if its list holds it; false when it had not joined. */
  leave(joined: string[], topic: string, member: M): boolean {
    const i = joined.indexOf(topic);
    if (i < 0) return false;
    joined.splice(i, 1);
    this.remove(topic, member);
    return true;
  }

  /** Removes `member` from every topic of its list (the socket is gone). */
  leaveAll(joined: string[], member: M): void {
    for (const t of joined) this.remove(t, member);
    joined.length = 0;
  }

  /** The members of `topic` (a live set: removing a member while iterating it is safe). */
  members(topic: string): Set<M> | undefined {
    return this.topics.get(topic);
  }
}
