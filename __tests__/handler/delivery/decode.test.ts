import { decodeBody, readMessage } from "../../../handler/delivery/decode";

describe("update decoding", () => {
  it("decodes plain and base64 bodies and rejects what is not an update", () => {
    const body = JSON.stringify({ update_id: 5 });
    expect(decodeBody({ body, isBase64Encoded: false })).toEqual({ ok: true, update: { update_id: 5 }, updateId: 5 });
    expect(decodeBody({ body: Buffer.from(body).toString("base64"), isBase64Encoded: true })).toEqual(expect.objectContaining({ ok: true, updateId: 5 }));
    for (const bad of ["", "nope", "[]", "null", '{"update_id":"5"}', '{"update_id":1.5}']) {
      expect(decodeBody({ body: bad, isBase64Encoded: false }).ok).toBe(false);
    }
  });

  it("reads only messages with the fields the bot relies on", () => {
    const good = { message_id: 1, from: { id: 2, first_name: "A" }, chat: { id: 2, type: "private" }, text: "hi" };
    expect(readMessage({ update_id: 1, message: good })).toBe(good);
    expect(readMessage({ update_id: 1, edited_message: good })).toBeUndefined();
    expect(readMessage({ update_id: 1, message: { ...good, from: undefined } })).toBeUndefined();
    expect(readMessage({ update_id: 1, message: { ...good, chat: { id: "2", type: "private" } } })).toBeUndefined();
    expect(readMessage({ update_id: 1, message: { ...good, text: 5 } })).toBeUndefined();
    expect(readMessage({ update_id: 1, message: { ...good, document: { file_id: 3 } } })).toBeUndefined();
  });
});
