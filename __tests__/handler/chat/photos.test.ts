import { TELEGRAM_GET_FILE_LIMIT_BYTES } from "../../../config/defaults";
import { PICTURE_GONE_TEXT } from "../../../handler/chat/photo";
import { archiveKey } from "../../../handler/store/archives";
import { addPhoto, type PhotoVariant } from "../../../local/stand-ins/telegram/photos";
import { useHarness, type Harness } from "../../support/handler-harness";
import { photoUpdate, textUpdate, TEST_USER_ID } from "../../support/updates";

const TEXT_MODEL = "llama3.2:1b";
const VISION_MODEL = "qwen2.5vl:3b";

/** Bytes that stand for a JPEG of this size (only their identity matters here). */
const jpeg = (bytes: number, fill: number) => Buffer.alloc(bytes, fill);
const variants = (...sizes: [number, number, number][]): PhotoVariant[] =>
  sizes.map(([width, bytes, fill]) => ({ width, height: Math.round(width * 0.75), data: jpeg(bytes, fill) }));

/** Pictures through the handler: to Ollama as `images` for a model that can see, a plain refusal otherwise. */
describe("photos (through the handler)", () => {
  const models = [TEXT_MODEL, VISION_MODEL];
  const h = useHarness({ config: { modelNames: models }, ollama: { models, capabilities: { [VISION_MODEL]: ["completion", "vision"] } } });
  let user = TEST_USER_ID + 90_000;
  const last = () => h.repliesTo(user).at(-1) ?? "";
  const chats = () => h.ollama.chatRequests();

  beforeEach(() => {
    user += 1;
  });

  const sendPhoto = (photo: PhotoVariant[], caption?: string, options: { announceSizes?: boolean; handler?: Parameters<Harness["send"]>[1] } = {}) =>
    h.send(photoUpdate(addPhoto(h.telegram, photo, options.announceSizes ?? true), { userId: user, ...(caption !== undefined ? { caption } : {}) }), options.handler);

  it("to a text-only model: says so plainly, names the configured vision model, and stores nothing", async () => {
    const before = chats().length;
    await sendPhoto(variants([90, 500, 1]), "what is this?");
    expect(last()).toBe(`${TEXT_MODEL}, the model of this session, reads text only: it cannot see pictures. ${VISION_MODEL} can: start a session with it (/newsession 2) and send the picture again.`);
    expect(chats()).toHaveLength(before);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  it("to a text-only model when no configured model can see: says that none can", async () => {
    const handler = h.createBotHandler({ modelNames: [TEXT_MODEL] });
    await sendPhoto(variants([90, 500, 1]), undefined, { handler: { handler } });
    expect(last()).toContain("None of the models here can; the admin can add one (for example qwen2.5vl:3b or gemma3:4b).");
  });

  it("to a vision model: the largest size goes as images (base64) on that message; the history keeps only the marker and the caption", async () => {
    await h.sendText("/newsession 2", { userId: user });
    await sendPhoto(variants([90, 300, 1], [320, 2_000, 2], [800, 6_000, 3]), "what is this?");

    const request = chats().at(-1)!;
    expect(request.model).toBe(VISION_MODEL);
    const message = request.messages.at(-1)!;
    expect(message).toEqual({ role: "user", content: "[photo] what is this?", images: [jpeg(6_000, 3).toString("base64")] });
    expect(last()).toBe("You said: [photo] what is this?");
    const stored = await h.conversationOf(user);
    expect(stored).toEqual(["user:[photo] what is this?", "assistant:You said: [photo] what is this?"]);
    expect(JSON.stringify(stored)).not.toContain(jpeg(6_000, 3).toString("base64").slice(0, 40));

    await h.sendText("and now?", { userId: user });
    const next = chats().at(-1)!;
    expect(next.messages.map((m) => m.content)).toEqual(["[photo] what is this?", "You said: [photo] what is this?", "and now?"]);
    expect(next.messages.some((m) => m.images !== undefined)).toBe(false);
  });

  it("a photo without a caption is stored as the marker alone, and export keeps the marker", async () => {
    await h.sendText("/newsession 2", { userId: user });
    await sendPhoto(variants([90, 300, 4]));
    expect(chats().at(-1)!.messages.at(-1)).toMatchObject({ content: "[photo]", images: [jpeg(300, 4).toString("base64")] });
    const [session] = await h.sessions.listSessions(user);
    await h.sendText("/archive 1", { userId: user });
    await h.sendText("/export 1", { userId: user });
    const exported = JSON.parse(h.telegram.documentsIn(user)[0]!.data.toString("utf8")) as { conversation: { content: string }[] };
    expect(exported.conversation.map((m) => m.content)).toEqual(["[photo]", "You said: [photo]"]);
    const archived = Buffer.from(await h.archives.get(archiveKey(user, session!.sessionId))).toString("utf8");
    expect(archived).not.toContain(jpeg(300, 4).toString("base64"));
  });

  it("takes the largest size under PHOTO_MAX_BYTES, also when Telegram announces no sizes", async () => {
    const handler = h.createBotHandler({ maxPhotoBytes: 4_096 });
    await h.send(textUpdate("/newsession 2", { userId: user }), { handler });
    await sendPhoto(variants([90, 1_000, 5], [320, 3_000, 6], [800, 9_000, 7]), "small enough", { handler: { handler } });
    expect(chats().at(-1)!.messages.at(-1)!.images).toEqual([jpeg(3_000, 6).toString("base64")]);
    await sendPhoto(variants([90, 1_000, 8], [800, 9_000, 9]), "unannounced", { announceSizes: false, handler: { handler } });
    expect(chats().at(-1)!.messages.at(-1)!.images).toEqual([jpeg(1_000, 8).toString("base64")]);
  });

  it("respects Telegram's 20 MB getFile limit: a size it refuses gives way to the next smaller one", async () => {
    const handler = h.createBotHandler({ maxPhotoBytes: TELEGRAM_GET_FILE_LIMIT_BYTES });
    await h.send(textUpdate("/newsession 2", { userId: user }), { handler });
    await sendPhoto(variants([90, 2_000, 1], [4_000, TELEGRAM_GET_FILE_LIMIT_BYTES + 1, 2]), "huge", { announceSizes: false, handler: { handler } });
    expect(h.telegram.callsTo("getFile").slice(-2)).toHaveLength(2);
    expect(chats().at(-1)!.messages.at(-1)!.images).toEqual([jpeg(2_000, 1).toString("base64")]);
  });

  it("refuses a photo larger than the limit at every size, storing nothing", async () => {
    const handler = h.createBotHandler({ maxPhotoBytes: 2_048 });
    await h.send(textUpdate("/newsession 2", { userId: user }), { handler });
    const before = chats().length;
    await sendPhoto(variants([90, 3_000, 1], [800, 9_000, 2]), "too big", { handler: { handler } });
    expect(last()).toBe("That picture is larger than 2.0 KB even at its smallest size, the most I send to the model. Please send a smaller one.");
    expect(chats()).toHaveLength(before);
    expect(await h.conversationOf(user)).toEqual([]);
  });

  describe("retrying a photo question", () => {
    /** A photo question to the vision model, answered; the size the bot took. */
    const askWithPhoto = async () => {
      await h.sendText("/newsession 2", { userId: user });
      const sizes = addPhoto(h.telegram, variants([90, 300, 1], [800, 6_000, 3]));
      await h.send(photoUpdate(sizes, { userId: user, caption: "what is this?" }));
      return sizes.find((s) => s.width === 800)!;
    };

    it("sends the picture again, fetched by the file_id the message kept (its bytes are never stored), and replaces the answer", async () => {
      const taken = await askWithPhoto();
      const item = (await h.sessions.recentMessages(user, (await h.sessions.getActiveSessionId(user))!, 5)).find((m) => m.role === "user")!;
      expect(item.photoFileId).toBe(taken.file_id);
      const fetched = h.telegram.callsTo("getFile").length;

      await h.sendText("/retry", { userId: user });
      expect(h.telegram.callsTo("getFile").slice(fetched).map((c) => c.params.file_id)).toEqual([taken.file_id]);
      const retried = chats().at(-1)!;
      expect(retried.model).toBe(VISION_MODEL);
      expect(retried.messages.at(-1)).toEqual({ role: "user", content: "[photo] what is this?", images: [jpeg(6_000, 3).toString("base64")] });
      expect(await h.conversationOf(user)).toEqual(["user:[photo] what is this?", "assistant:You said: [photo] what is this?"]);
    });

    it("with a text-only model, refuses plainly and asks no model", async () => {
      await askWithPhoto();
      const before = chats().length;
      await h.sendText("/retry 1", { userId: user });
      expect(last()).toContain(`${TEXT_MODEL}, the model asked, reads text only: it cannot see pictures. ${VISION_MODEL} can`);
      expect(chats()).toHaveLength(before);
    });

    it("when Telegram no longer has the picture, says so and keeps the old answer", async () => {
      const taken = await askWithPhoto();
      const before = await h.conversationOf(user);
      const asked = chats().length;
      h.telegram.forgetFile(taken.file_id);
      await h.sendText("/retry", { userId: user });
      expect(last()).toBe(PICTURE_GONE_TEXT);
      expect(chats()).toHaveLength(asked);
      expect(await h.conversationOf(user)).toEqual(before);
    });
  });

  it("in a group, a photo is left alone", async () => {
    const sizes = addPhoto(h.telegram, variants([90, 300, 1]));
    await h.send(photoUpdate(sizes, { userId: user, chatId: -user, chatType: "group", caption: "@TestBot look" }));
    expect(h.repliesTo(-user)).toEqual([]);
  });
});
