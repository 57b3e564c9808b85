/** Requests waiting for room in the backlog (overflow `wait`): each told true when there is room, false at its deadline or when refused. */
export class RoomWaiters {
  private readonly waiting = new Set<(room: boolean) => void>();

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves true once `tell(true)` is called, or false after `ms` or at `tell(false)`. */
  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => told(false), ms);
      const told = (room: boolean) => {
        clearTimeout(timer);
        this.waiting.delete(told);
        resolve(room);
      };
      this.waiting.add(told);
    });
  }

  /** Tells every request waiting now. */
  tell(room: boolean): void {
    for (const told of [...this.waiting]) told(room);
  }
}
