import { imageSizeOf } from "../../local/image-size";

describe("imageSizeOf", () => {
  it("reads a PNG's size from its IHDR chunk", () => {
    const png = Buffer.concat([Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), Buffer.from([0, 0, 2, 128, 0, 0, 1, 224, 8, 2, 0, 0, 0])]);
    expect(imageSizeOf(png)).toEqual({ width: 640, height: 480 });
  });

  it("reads a JPEG's size from its start-of-frame marker, past the segments before it", () => {
    const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]);
    const dht = Buffer.from([0xff, 0xc4, 0x00, 0x04, 0x00, 0x00]); // a C4 segment is not a frame
    const sof0 = Buffer.from([0xff, 0xc0, 0x00, 0x0b, 0x08, 0x01, 0x2c, 0x01, 0x90, 0x03, 0x01]); // 400×300
    expect(imageSizeOf(Buffer.concat([Buffer.from([0xff, 0xd8]), app0, dht, sof0]))).toEqual({ width: 400, height: 300 });
  });

  it("says nothing for other files, truncated headers and broken segments", () => {
    expect(imageSizeOf(Buffer.from('{"not":"a picture"}'))).toBeUndefined();
    expect(imageSizeOf(Buffer.from([0xff, 0xd8, 0xff]))).toBeUndefined();
    expect(imageSizeOf(Buffer.from([0xff, 0xd8, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]))).toBeUndefined();
    expect(imageSizeOf(Buffer.from("89504e470d0a1a0a", "hex"))).toBeUndefined();
  });
});
