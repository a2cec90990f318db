import { backoffSecondsFor, MIN_QUEUE_VISIBILITY_SECONDS, RETRY_BACKOFF_SECONDS } from "../../../handler/delivery/queue-visibility";
import { visibilityTimeoutOf } from "../../../constructs/update-queue";
import { lambdaTimeoutBounds } from "../../../config/stack-config";

describe("the backoff of a record handed back", () => {
  it("grows with the receive count: 5 s, 20 s, 60 s, then 150 s", () => {
    expect([1, 2, 3, 4, 5, 9].map(backoffSecondsFor)).toEqual([5, 20, 60, 150, 150, 150]);
    expect(backoffSecondsFor(0)).toBe(5);
  });

  it("stays below the smallest visibility timeout the stack can give the queue", () => {
    expect(MIN_QUEUE_VISIBILITY_SECONDS).toBe(visibilityTimeoutOf(lambdaTimeoutBounds("queue").min));
    for (const seconds of RETRY_BACKOFF_SECONDS) expect(seconds).toBeLessThan(MIN_QUEUE_VISIBILITY_SECONDS);
  });
});
