import { type AddressInfo, createServer, type Socket } from 'node:net';

/** A TCP server on 127.0.0.1 that accepts connections, reads them, and never answers. */
export interface SilentServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The connections accepted so far. */
  readonly held: readonly Socket[];
  close(): Promise<void>;
}

/** Starts a SilentServer: for checking that a call is cut off at its time budget. */
export async function startSilentServer(): Promise<SilentServer> {
  const held: Socket[] = [];
  const server = createServer((socket) => {
    held.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    async close() {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
