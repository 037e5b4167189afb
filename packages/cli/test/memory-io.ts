import type { AdminApi } from '../src/admin-client';
import { InputTooLarge, type Io } from '../src/io';

export interface MemoryIo extends Io {
  out: string;
  err: string;
  /** Files written through writeFile. */
  written: Record<string, string>;
}

/** An Io over in-memory files, for running commands in-process. */
export function memoryIo(files: Readonly<Record<string, string>> = {}, options: { stdin?: string; env?: Record<string, string>; now?: number } = {}): MemoryIo {
  const io: MemoryIo = {
    out: '',
    err: '',
    written: {},
    stdout: (text) => void (io.out += text),
    stdoutIsTerminal: false,
    stderr: (text) => void (io.err += text),
    readStdin: async (maxBytes) => {
      const text = options.stdin ?? '';
      if (Buffer.byteLength(text) > maxBytes) throw new InputTooLarge(maxBytes, false);
      return text;
    },
    readFile: async (path, maxBytes) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      if (maxBytes !== undefined && Buffer.byteLength(text) > maxBytes) throw new InputTooLarge(Buffer.byteLength(text), true);
      return text;
    },
    writeFile: async (path, text) => void (io.written[path] = text),
    env: options.env ?? {},
    homedir: '/home/op',
    now: () => options.now ?? 1_700_000_000_000,
  };
  return io;
}

/** A config file that loadClientConfig accepts (content is never used by a fake AdminApi). */
export const FAKE_CONFIG = JSON.stringify({
  endpoint: '127.0.0.1:15012',
  trustDomain: 'weft.local',
  caPem: 'ca',
  certificatePem: 'cert',
  privateKeyPem: 'SECRET-KEY-MATERIAL',
  controlPlaneSpiffeId: 'spiffe://weft.local/ns/weft-system/sa/weft-control-plane',
});

/** An AdminApi whose every method fails unless the test overrides it; records calls. */
export function fakeAdmin(overrides: Partial<AdminApi> = {}): AdminApi & { calls: string[] } {
  const calls: string[] = [];
  const unexpected = (name: string) => async (): Promise<never> => {
    calls.push(name);
    throw new Error(`unexpected call: ${name}`);
  };
  const wrap = <K extends keyof AdminApi>(name: K): AdminApi[K] => {
    const impl = overrides[name];
    if (!impl) return unexpected(name) as unknown as AdminApi[K];
    return ((...args: unknown[]) => {
      calls.push(name);
      return (impl as (...a: unknown[]) => unknown)(...args);
    }) as AdminApi[K];
  };
  return {
    calls,
    apply: wrap('apply'),
    get: wrap('get'),
    delete: wrap('delete'),
    listProxies: wrap('listProxies'),
    listServices: wrap('listServices'),
    createToken: wrap('createToken'),
    listTokens: wrap('listTokens'),
    revokeToken: wrap('revokeToken'),
    removeProxy: wrap('removeProxy'),
    rotateRoot: wrap('rotateRoot'),
    caStatus: wrap('caStatus'),
    version: wrap('version'),
    status: wrap('status'),
    proxyConfig: wrap('proxyConfig'),
    stat: wrap('stat'),
    edges: wrap('edges'),
    tap: wrap('tap'),
    close: () => undefined,
  };
}
