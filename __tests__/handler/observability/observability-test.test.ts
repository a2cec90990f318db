import { createLogger } from "../../../handler/observability/log";
import { isObservabilityTestEvent, runObservabilityTest } from "../../../handler/observability/observability-test";
import { proxyEventFromUpdate } from "../../../local/lambda-event";
import { textUpdate } from "../../support/updates";

describe("observability-test", () => {
  it("recognises the direct-invocation payload", () => {
    expect(isObservabilityTestEvent({ observabilityTest: true, requestedBy: "ops" })).toBe(true);
  });

  it("never mistakes an API Gateway event for it, even one whose fields look alike", () => {
    const event = { ...proxyEventFromUpdate(textUpdate("hi")), observabilityTest: true, requestedBy: "x" };
    expect(isObservabilityTestEvent(event)).toBe(false);
    expect(isObservabilityTestEvent({ observabilityTest: "yes", requestedBy: "x" })).toBe(false);
    expect(isObservabilityTestEvent(null)).toBe(false);
  });

  it("writes exactly one ERROR line naming who asked", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "INFO", secrets: [], sink: (line) => lines.push(line) });
    expect(runObservabilityTest({ observabilityTest: true, requestedBy: "run 1a2b" }, log)).toEqual({ ok: true });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "ERROR",
      action: "observability_test",
      outcome: "failure",
      message: "observability test error requested by run 1a2b",
    });
  });
});
