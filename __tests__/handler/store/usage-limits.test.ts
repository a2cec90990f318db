import { configWith } from "../../../handler/config";
import { createDocumentClient } from "../../../handler/store/aws";
import { usageSk } from "../../../handler/store/table-layout";
import { UsageLimits, windowsOf } from "../../../handler/store/usage-limits";
import { startEmulators, type RunningEmulators } from "../../../local/emulators";

describe("UsageLimits", () => {
  let emulators: RunningEmulators;
  let doc: ReturnType<typeof createDocumentClient>;
  let user = 5_000;
  let use = 0;
  let now = Date.UTC(2026, 11, 5, 14, 20);
  let limits: UsageLimits;

  beforeAll(async () => {
    emulators = await startEmulators();
    doc = createDocumentClient(configWith({ region: emulators.region, dynamodbEndpoint: emulators.dynamodbEndpoint }), emulators.credentials);
    limits = new UsageLimits({ doc, tableName: emulators.tableName, now: () => now });
  });
  afterAll(async () => {
    doc.destroy();
    await emulators.stop();
  });
  beforeEach(() => {
    user += 1;
    now = Date.UTC(2026, 11, 5, 14, 20);
  });

  it("names the UTC day and hour windows and when they end", () => {
    expect(windowsOf(Date.UTC(2026, 11, 5, 23, 59, 59))).toEqual({ day: "2026-12-05", hour: 23, dayEnds: Date.UTC(2026, 11, 6), hourEnds: Date.UTC(2026, 11, 6) });
  });

  it("allows uses up to the hour's limit, then refuses and says when the hour resets; the next hour counts afresh", async () => {
    for (let i = 0; i < 3; i++) expect(await limits.count(user, "chat", { perHour: 3, perDay: 10 }, ++use)).toEqual({ allowed: true });
    expect(await limits.count(user, "chat", { perHour: 3, perDay: 10 }, ++use)).toEqual({ allowed: false, window: "hour", limit: 3, resetsAt: Date.UTC(2026, 11, 5, 15) });
    now = Date.UTC(2026, 11, 5, 15, 1);
    expect(await limits.count(user, "chat", { perHour: 3, perDay: 10 }, ++use)).toEqual({ allowed: true });
  });

  it("refuses once the day is full, whatever the hour, until the next UTC day", async () => {
    for (let i = 0; i < 4; i++) {
      now = Date.UTC(2026, 11, 5, 10 + i);
      expect((await limits.count(user, "chat", { perHour: 3, perDay: 4 }, ++use)).allowed).toBe(true);
    }
    now = Date.UTC(2026, 11, 5, 20);
    expect(await limits.count(user, "chat", { perHour: 3, perDay: 4 }, ++use)).toEqual({ allowed: false, window: "day", limit: 4, resetsAt: Date.UTC(2026, 11, 6) });
    now = Date.UTC(2026, 11, 6, 0, 5);
    expect((await limits.count(user, "chat", { perHour: 3, perDay: 4 }, ++use)).allowed).toBe(true);
  });

  it("counts nothing for a refused use, and keeps kinds apart", async () => {
    await limits.count(user, "import", { perDay: 1 }, ++use);
    await limits.count(user, "import", { perDay: 1 }, ++use);
    await limits.count(user, "import", { perDay: 1 }, ++use);
    const item = await doc.get({ TableName: emulators.tableName, Key: { pk: user, sk: usageSk("import", "2026-12-05") } });
    expect(item.Item).toEqual(expect.objectContaining({ day_count: 1, ttl: Date.UTC(2026, 11, 7) / 1000 }));
    expect((await limits.count(user, "chat", { perDay: 1 }, ++use)).allowed).toBe(true);
  });

  it("allows everything without limits, and writes nothing", async () => {
    for (let i = 0; i < 5; i++) expect(await limits.count(user, "chat", { perHour: 0, perDay: 0 }, ++use)).toEqual({ allowed: true });
    expect((await doc.get({ TableName: emulators.tableName, Key: { pk: user, sk: usageSk("chat", "2026-12-05") } })).Item).toBeUndefined();
  });
});

describe("UsageLimits, once per use", () => {
  let emulators: RunningEmulators;
  let doc: ReturnType<typeof createDocumentClient>;
  let limits: UsageLimits;
  const now = Date.UTC(2026, 11, 5, 9, 30);

  beforeAll(async () => {
    emulators = await startEmulators();
    doc = createDocumentClient(configWith({ region: emulators.region, dynamodbEndpoint: emulators.dynamodbEndpoint }), emulators.credentials);
    limits = new UsageLimits({ doc, tableName: emulators.tableName, now: () => now });
  });
  afterAll(async () => {
    doc.destroy();
    await emulators.stop();
  });

  it("counts a use named twice (a rerun of the same update) once, and allows it again even when the limit is now full", async () => {
    const user = 7_001;
    expect(await limits.count(user, "chat", { perHour: 2, perDay: 5 }, 100)).toEqual({ allowed: true });
    expect(await limits.count(user, "chat", { perHour: 2, perDay: 5 }, 100)).toEqual({ allowed: true });
    expect(await limits.count(user, "chat", { perHour: 2, perDay: 5 }, 101)).toEqual({ allowed: true });
    // The hour is full now; update 100 run again is still the use it was.
    expect(await limits.count(user, "chat", { perHour: 2, perDay: 5 }, 100)).toEqual({ allowed: true });
    expect((await limits.count(user, "chat", { perHour: 2, perDay: 5 }, 102)).allowed).toBe(false);
    const item = (await doc.get({ TableName: emulators.tableName, Key: { pk: user, sk: usageSk("chat", "2026-12-05") } })).Item;
    expect(item).toEqual(expect.objectContaining({ day_count: 2, hour_9: 2, counted: new Set([100, 101]) }));
  });

  it("lets exactly the limit through when uses race", async () => {
    const user = 7_002;
    const checks = await Promise.all(Array.from({ length: 8 }, (_, i) => limits.count(user, "import", { perDay: 3 }, 200 + i)));
    expect(checks.filter((c) => c.allowed)).toHaveLength(3);
  });
});
