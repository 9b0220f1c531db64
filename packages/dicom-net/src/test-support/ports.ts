// Test support: TCP ports for servers started by tests and benchmarks.
import net from 'node:net';

/** Ports already handed out in this process: the kernel may offer a just-closed port again. */
const handedOut = new Set<number>();

/** A port that was free a moment ago and was not handed out before (for tools that cannot listen on port 0). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await unusedPort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
