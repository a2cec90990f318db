import { cpus, totalmem } from "node:os";

/** Where the figures came from. */
export interface MachineInfo {
  /** CPU model from os.cpus(). */
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly node: string;
  readonly platform: string;
  /** ISO date of the run. */
  readonly date: string;
}

/** Describes this machine and the moment of the run. */
export function machineInfo(now: Date = new Date()): MachineInfo {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() || "unknown",
    cores: list.length,
    memoryBytes: totalmem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: now.toISOString(),
  };
}
