import { availableParallelism, cpus, totalmem } from 'node:os'

/** The machine a run was measured on, recorded beside every result. */
export interface MachineInfo {
  node: string
  platform: string
  arch: string
  cpu: string
  cores: number
  memoryBytes: number
}

/** Describe this machine. */
export function machineInfo (): MachineInfo {
  return {
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryBytes: totalmem()
  }
}
