/** Samples the process's resident set size on an interval and keeps the peak. */
export class RssSampler {
  #peak = 0
  #timer: NodeJS.Timeout | undefined

  /** Start sampling (again), forgetting the previous peak. */
  start (intervalMs = 20): void {
    this.stop()
    this.#peak = process.memoryUsage.rss()
    this.#timer = setInterval(() => this.#sample(), intervalMs)
    // A sampler must never keep the process alive on its own.
    this.#timer.unref()
  }

  /** Stop sampling; returns the peak in bytes. */
  stop (): number {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
      this.#sample()
    }
    return this.#peak
  }

  #sample (): void {
    const rss = process.memoryUsage.rss()
    if (rss > this.#peak) this.#peak = rss
  }
}
