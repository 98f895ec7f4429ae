/**
 * Internal: the bound on introspection requests in flight. At most `maxConcurrent` run at once;
 * up to `maxQueued` more wait for a slot, each at most `maxWait` milliseconds; past either bound
 * the call fails at once with the `busy` error (a 503). A flood of distinct made-up tokens (each
 * needs its own request: the cache cannot know them) thus costs the authorization server at most
 * `maxConcurrent` requests at a time.
 */

interface Waiter {
  start: () => void;
  fail: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class CallLimiter {
  private running = 0;
  private readonly queue: Waiter[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueued: number,
    private readonly maxWait: number,
    /** The error of a call that gets no slot (the queue is full, or the wait too long). */
    private readonly busy: (reason: string) => Error,
  ) {}

  /** Runs `call` when a slot is free. */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.running < this.maxConcurrent) return this.start(call);
    if (this.queue.length >= this.maxQueued) return Promise.reject(this.busy(`${this.maxConcurrent} introspection requests in flight and ${this.maxQueued} waiting`));
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.start(call).then(resolve, reject);
        },
        fail: (error) => {
          clearTimeout(waiter.timer);
          reject(error);
        },
        timer: setTimeout(() => {
          const index = this.queue.indexOf(waiter);
          if (index !== -1) this.queue.splice(index, 1);
          reject(this.busy(`no introspection request slot became free within ${this.maxWait} ms`));
        }, this.maxWait),
      };
      this.queue.push(waiter);
    });
  }

  private start<T>(call: () => Promise<T>): Promise<T> {
    this.running += 1;
    return Promise.resolve().then(call).finally(() => {
      this.running -= 1;
      this.queue.shift()?.start();
    });
  }

  /** Fails every waiting call (on close). */
  clear(): void {
    for (const waiter of this.queue.splice(0)) waiter.fail(this.busy('the verifier was closed'));
  }
}
