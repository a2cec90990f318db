import type { PhotoSize } from "@grammyjs/types";
import { photoCandidates, photoMarker, textOnlyText, withImage } from "../../../handler/chat/photo";

const size = (width: number, file_size?: number): PhotoSize => ({ file_id: `f${width}`, file_unique_id: `u${width}`, width, height: width, ...(file_size !== undefined ? { file_size } : {}) });

describe("photo", () => {
  it("stores a marker and the caption", () => {
    expect(photoMarker("  what is this?  ")).toBe("[photo] what is this?");
    expect(photoMarker("")).toBe("[photo]");
  });

  it("tries the sizes within the limit (and those of unknown size) largest first", () => {
    const sizes = [size(90, 1_000), size(320, 5_000), size(800), size(1280, 50_000)];
    expect(photoCandidates(sizes, 10_000).map((s) => s.width)).toEqual([800, 320, 90]);
    expect(photoCandidates([size(1280, 50_000)], 10_000)).toEqual([]);
  });

  it("names a vision model with its /newsession number, or says none can", () => {
    expect(textOnlyText("a:1b", { model: "gemma3:4b", position: 3 })).toContain("gemma3:4b can: start a session with it (/newsession 3)");
    expect(textOnlyText("a:1b", undefined)).toContain("None of the models here can");
  });

  it("puts the image on the last message only", () => {
    const window = { messages: [{ role: "system" as const, content: "s" }, { role: "user" as const, content: "[photo]" }], omitted: false };
    expect(withImage(window, "QUJD").messages).toEqual([{ role: "system", content: "s" }, { role: "user", content: "[photo]", images: ["QUJD"] }]);
    expect(withImage(window, undefined)).toBe(window);
  });
});
