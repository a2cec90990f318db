import { DRIVER_MARKER, parseDriverOutput } from "../../bench/cold-start";

describe("bench/cold-start", () => {
  it("finds the driver's result line among the handler's log lines", () => {
    const stdout = [
      '{"level":"WARNING","message":"a log line"}',
      `${DRIVER_MARKER}{"bootMs":18.5,"loadMs":70.25,"firstUpdateMs":40,"statusCode":200}`,
      "",
    ].join("\n");
    expect(parseDriverOutput(stdout)).toEqual({ bootMs: 18.5, loadMs: 70.25, firstUpdateMs: 40, statusCode: 200 });
  });

  it("fails when the driver printed no result line", () => {
    expect(() => parseDriverOutput('{"level":"ERROR"}\n')).toThrow("no result line");
  });

  it("fails when a figure is missing or not a number", () => {
    expect(() => parseDriverOutput(`${DRIVER_MARKER}{"bootMs":1,"loadMs":"fast","firstUpdateMs":1,"statusCode":200}`)).toThrow("loadMs");
  });
});
