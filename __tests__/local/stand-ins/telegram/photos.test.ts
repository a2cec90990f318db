import { TELEGRAM_GET_FILE_LIMIT_BYTES } from "../../../../config/defaults";
import { addPhoto } from "../../../../local/stand-ins/telegram/photos";
import { TelegramStandIn } from "../../../../local/stand-ins/telegram/server";
import { TEST_TOKEN } from "../../../support/updates";

describe("addPhoto", () => {
  let telegram: TelegramStandIn;
  beforeAll(async () => {
    telegram = await TelegramStandIn.start({ token: TEST_TOKEN });
  });
  afterAll(() => telegram.stop());

  const getFile = async (fileId: string) =>
    (await (await fetch(`${telegram.url}/bot${TEST_TOKEN}/getFile`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ file_id: fileId }) })).json()) as {
      ok: boolean;
      result?: { file_path: string; file_size: number };
      description?: string;
    };

  it("lists the sizes smallest first as PhotoSize objects that getFile and the file URL serve", async () => {
    const sizes = addPhoto(telegram, [
      { width: 800, height: 600, data: Buffer.from("large") },
      { width: 90, height: 68, data: Buffer.from("s") },
    ]);
    expect(sizes.map((s) => [s.width, s.height, s.file_size])).toEqual([[90, 68, 1], [800, 600, 5]]);
    const file = await getFile(sizes[1]!.file_id);
    expect(file.result).toMatchObject({ file_size: 5, file_path: expect.stringMatching(/^photos\/.+_800x600\.jpg$/) });
    const bytes = await (await fetch(`${telegram.url}/file/bot${TEST_TOKEN}/${file.result!.file_path}`)).text();
    expect(bytes).toBe("large");
  });

  it("can leave file_size out, and getFile refuses a size over Telegram's 20 MB limit", async () => {
    const [huge] = addPhoto(telegram, [{ width: 8000, height: 6000, data: Buffer.alloc(TELEGRAM_GET_FILE_LIMIT_BYTES + 1) }], false);
    expect(huge!.file_size).toBeUndefined();
    expect(await getFile(huge!.file_id)).toMatchObject({ ok: false, description: "Bad Request: file is too big" });
  });
});
