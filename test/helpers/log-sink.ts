// A pino destination for tests: every JSON log line the logger writes, parsed, pushed to `lines`.
import { Writable } from 'node:stream';

export function jsonLogSink<T = Record<string, unknown>>(lines: T[]): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as T);
      done();
    },
  });
}
