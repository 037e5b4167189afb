import { run } from '../src/main';
import { memoryIo } from './memory-io';

/** Runs `weftctl inject -f /in.yaml FLAGS` in-process on `text`. */
export async function inject(text: string, flags: string[] = []): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({ '/in.yaml': text });
  const code = await run(['inject', '-f', '/in.yaml', ...flags], io);
  return { code, out: io.out, err: io.err };
}
