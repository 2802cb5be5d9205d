// Test helper: a TCP port on 127.0.0.1 that nothing listens on, for a program that takes its
// port on the command line (the kernel picks it; it is free again the moment this returns).
import { createServer } from 'node:net';

export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
