/**
 * Listening and closing for the stand-ins' HTTP servers (bedrock.ts, openai.ts): a free port
 * on 127.0.0.1 only (nothing off this machine reaches a stand-in), and a close that does not
 * wait for keep-alive connections to time out.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on a free loopback port; resolves with the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Stops accepting, drops every connection (idle keep-alive ones too) and resolves once closed. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
