import { CALLBACK_DATA_MAX_BYTES, decodeButton, encodeButton, pageArgument, pageOf, PICKER_PAGE_SIZE, pickerKeyboard } from "../../../handler/conversation/buttons";

describe("button codec", () => {
  const sessionId = "4ff242c1-80a3-86a2-855b-ff56afb67d5e";

  it("round-trips every action with the largest user id Telegram can give, within 64 bytes", () => {
    const owner = Number.MAX_SAFE_INTEGER;
    for (const action of ["ns", "sw", "ar", "ex", "st", "rt"] as const) {
      const data = encodeButton({ action, owner, argument: sessionId });
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(CALLBACK_DATA_MAX_BYTES);
      expect(decodeButton(data)).toEqual({ action, owner, argument: sessionId });
    }
  });

  it("refuses to encode what would not fit", () => {
    expect(() => encodeButton({ action: "sw", owner: 1, argument: "x".repeat(62) })).toThrow(RangeError);
  });

  it.each([undefined, 42, "", "sw", "xx:1:a", "sw:-1:a", "sw:0:a", "SW:1:a", "sw:1:a b", "sw:1:é", `sw:1:${"a".repeat(61)}`, "sw:zzzzzzzzzzzz:a"])(
    "decodes %j as nothing",
    (raw) => {
      expect(decodeButton(raw)).toBeUndefined();
    },
  );

  it("names pages apart from items", () => {
    expect(pageOf(pageArgument(3))).toBe(3);
    expect(pageOf(sessionId)).toBeUndefined();
    expect(pageOf("~x")).toBeUndefined();
  });

  it("pages a picker and clamps the page", () => {
    const items = Array.from({ length: PICKER_PAGE_SIZE * 2 + 1 }, (_, i) => ({ label: `item ${i + 1}`, argument: String(i + 1) }));
    const middle = pickerKeyboard("sw", 7, items, 2).inline_keyboard;
    expect(middle.slice(0, -1).map((row) => row[0]!.text)).toEqual(items.slice(PICKER_PAGE_SIZE, PICKER_PAGE_SIZE * 2).map((i) => i.label));
    expect(middle.at(-1)!.map((b) => b.text)).toEqual(["‹ 1/3", "3/3 ›"]);
    const beyond = pickerKeyboard("sw", 7, items, 99).inline_keyboard;
    expect(beyond).toHaveLength(2);
    expect(beyond[0]![0]!.text).toBe(`item ${items.length}`);
    expect(pickerKeyboard("sw", 7, items.slice(0, 2)).inline_keyboard).toHaveLength(2);
  });
});
