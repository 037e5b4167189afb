/**
 * The upstreams every configuration ends at: a third nginx serving `/1k.bin` and `/16k.bin` from
 * disk (HTTP/1.1 keep-alive), and the grpc-js echo server (grpc-echo.ts) in its own process.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findFreePort, ProcessGroup } from '@weft/harness';
import type { Upstreams } from './configuration';
import { NginxProcess, upstreamHttpBlock } from './nginx';

export const FILES = { '1k': { path: '/1k.bin', bytes: 1024 }, '16k': { path: '/16k.bin', bytes: 16 * 1024 } } as const;

export interface RunningUpstreams extends Upstreams {
  stop(): Promise<void>;
}

export async function startUpstreams(dir: string): Promise<RunningUpstreams> {
  const root = path.join(dir, 'www');
  fs.mkdirSync(root, { recursive: true });
  for (const file of Object.values(FILES)) fs.writeFileSync(path.join(root, file.path), Buffer.alloc(file.bytes, 'w'));
  const httpPort = await findFreePort();
  const nginx = await NginxProcess.start('upstream', path.join(dir, 'nginx-upstream'), upstreamHttpBlock(httpPort, root), [httpPort]);
  const group = new ProcessGroup();
  try {
    const echo = group.spawn({ name: 'grpc-echo', script: path.join(__dirname, 'grpc-echo.js') });
    const listening = await group.waitForLog(echo, (e) => e['msg'] === 'listening', 10_000);
    return {
      httpPort,
      grpcPort: Number(listening['port']),
      stop: async () => {
        await group.stopAll(3_000);
        await nginx.stop();
      },
    };
  } catch (err) {
    await group.stopAll(3_000);
    await nginx.stop();
    throw err;
  }
}
