/**
 * A progress bar on stderr for long commands (fsck, export, import), only when a person is
 * watching: stderr is a terminal and --json is off. cli-progress is loaded only then.
 */
export interface Progress {
  update: (done: number) => void
  stop: () => void
}

const NONE: Progress = { update: () => {}, stop: () => {} }

/** A counter bar labelled `label` ("… {value} …"), or a no-op when nobody watches. */
export async function progress (label: string, json: boolean): Promise<Progress> {
  if (process.stderr.isTTY !== true || json) return NONE
  const { default: bars } = await import('cli-progress')
  const bar = new bars.SingleBar({ format: label, stream: process.stderr, clearOnComplete: true }, bars.Presets.shades_classic)
  bar.start(0, 0)
  return { update: (done) => { bar.update(done) }, stop: () => { bar.stop() } }
}
