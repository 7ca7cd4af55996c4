import { defineCommand } from '../command.js'
import type { GlobalArgs } from '../command.js'
import { createOutput } from '../output.js'
import { progress } from '../progress.js'
import { withStore } from '../store-location.js'

/** Verification found damage: exit 6, after the report. */
class DamagedStoreError extends Error {
  readonly code = 'REVKV_DAMAGED'
  readonly status = 500

  toJSON (): Record<string, unknown> {
    return { name: 'DamagedStoreError', code: this.code, status: this.status, message: this.message }
  }
}

/** `revkv fsck`: verify every revision, head, unmerged entry and index of the store. */
export const fsck = defineCommand<GlobalArgs>({
  command: 'fsck',
  describe: 'Verify the store: re-hash every revision, check parents, heights, heads and indexes',
  builder: (y) => y
    .example('$0 fsck', 'Check ./.revkv; exit 0 when sound, 6 listing each problem otherwise')
    .example('$0 fsck --json', 'The report as JSON: { revisions, keys, problems: [{ kind, key, revision, message }] }')
    .example('$0 --remote http://127.0.0.1:7070 fsck', 'Check a served store while it serves (it reads one snapshot; writes go on)'),
  handler: async (args) => {
    const out = createOutput(args)
    await withStore(args, async (store) => {
      const bar = await progress('fsck {value} records read', args.json)
      const report = await store.verify({ onProgress: (done) => { bar.update(done) } })
      bar.stop()
      if (out.json) {
        out.data(report)
      } else {
        for (const p of report.problems) out.line(`${p.kind.padEnd(8)} ${p.message}`)
        out.note(`Checked ${report.revisions.toLocaleString('en-US')} revisions of ${report.keys.toLocaleString('en-US')} keys: ${report.problems.length === 0 ? 'no problems' : `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`}.`)
      }
      if (report.problems.length > 0) throw new DamagedStoreError(`The store failed verification with ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} (listed above).`)
    })
  }
})
