/** Small helpers shared by the tests. */
import * as assert from 'uvu/assert'

/** The rejection of a promise, failing the test if it resolves. */
export async function rejection (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (err) {
    return err as Error
  }
  throw new assert.Assertion({ message: 'expected the operation to fail, but it succeeded', operator: 'rejects', expects: 'a rejection', actual: 'success' })
}

/** Everything an async iterable yields. */
export async function all<T> (items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}
