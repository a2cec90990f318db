/** Captured stdout/stderr for tests that run a script's main() in-process. */
export interface CapturedIo {
  readonly stdout: { write(text: string): boolean; isTTY?: boolean };
  readonly stderr: { write(text: string): boolean; isTTY?: boolean };
  /** Everything written to stdout so far. */
  out(): string;
  /** Everything written to stderr so far. */
  err(): string;
}

/** Streams that collect what is written, not terminals (no spinners, no colours). */
export function captureIo(): CapturedIo {
  let out = "";
  let err = "";
  return {
    stdout: {
      write: (text: string) => {
        out += text;
        return true;
      },
    },
    stderr: {
      write: (text: string) => {
        err += text;
        return true;
      },
    },
    out: () => out,
    err: () => err,
  };
}
