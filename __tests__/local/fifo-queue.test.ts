import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { LocalFifoQueue } from "../../local/fifo-queue";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("LocalFifoQueue (SQS FIFO + the event source mapping, in memory)", () => {
  it("hands out one group's records in order, one at a time, and different groups in parallel up to maxConcurrency", async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    const queue = new LocalFifoQueue({
      maxConcurrency: 2,
      consume: async (event) => {
        running += 1;
        most = Math.max(most, running);
        await sleep(20);
        for (const r of event.Records) log.push(`${r.attributes.MessageGroupId}:${r.body}`);
        running -= 1;
        return { batchItemFailures: [] };
      },
    });
    for (let i = 1; i <= 3; i++) for (const group of ["a", "b", "c"]) queue.send(`${i}`, group, `${group}${i}`);
    await queue.idle();
    for (const group of ["a", "b", "c"]) expect(log.filter((l) => l.startsWith(group))).toEqual([`${group}:1`, `${group}:2`, `${group}:3`]);
    expect(most).toBe(2);
  });

  it("drops a duplicate deduplication id within five minutes", async () => {
    const bodies: string[] = [];
    const queue = new LocalFifoQueue({ consume: async (e) => (bodies.push(...e.Records.map((r) => r.body)), { batchItemFailures: [] }) });
    expect(queue.send("x", "g", "42")).toBe("queued");
    expect(queue.send("x again", "g", "42")).toBe("duplicate");
    await queue.idle();
    expect(bodies).toEqual(["x"]);
  });

  it("redelivers a reported record after the visibility timeout with a higher receive count, keeping its group behind it", async () => {
    const seen: string[] = [];
    let failOnce = true;
    const queue = new LocalFifoQueue({
      visibilityTimeoutMs: 50,
      batchSize: 10,
      consume: async (event): Promise<SQSBatchResponse> => {
        const failures: { itemIdentifier: string }[] = [];
        for (const r of event.Records) {
          seen.push(`${r.body}#${r.attributes.ApproximateReceiveCount}`);
          if (r.body === "1" && failOnce) {
            failOnce = false;
            failures.push(...event.Records.slice(event.Records.indexOf(r)).map((x) => ({ itemIdentifier: x.messageId })));
            break;
          }
        }
        return { batchItemFailures: failures };
      },
    });
    queue.send("1", "g", "1");
    queue.send("2", "g", "2");
    const started = Date.now();
    await queue.idle();
    expect(seen).toEqual(["1#1", "1#2", "2#1"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("returns the whole batch when the invocation fails, and dead-letters a record after maxReceiveCount receives", async () => {
    const dead: string[] = [];
    let calls = 0;
    const queue = new LocalFifoQueue({
      visibilityTimeoutMs: 10,
      maxReceiveCount: 3,
      onDeadLetter: (m) => dead.push(`${m.body}#${m.receiveCount}`),
      consume: async (_event: SQSEvent) => {
        calls += 1;
        throw new Error("crashed");
      },
    });
    queue.send("poison", "g", "p");
    await queue.idle();
    expect(calls).toBe(3);
    expect(dead).toEqual(["poison#3"]);
    expect(queue.depth).toBe(0);
  });
});
