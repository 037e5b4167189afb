import { join } from 'node:path';
import { packageRoot } from '@weft/api';
import type { Socket } from 'node:net';

/** Where a redirected connection was going: the address and port the app dialled. */
export interface OriginalDst {
  readonly host: string;
  readonly port: number;
}

/**
 * SO_ORIGINAL_DST, read by the native addon built at `npm ci` (native/original_dst.cc). Node has
 * no getsockopt; the addon is the one native piece. When it is missing (not Linux, no compiler at
 * install time) `available` is false and `reason` says why: the sidecar then serves as an
 * explicit proxy only.
 */
export interface OriginalDstReader {
  readonly available: boolean;
  readonly reason: string;
  /** The connection's original destination, or undefined when it was not redirected (or no addon). */
  read(socket: Socket): OriginalDst | undefined;
}

interface Addon {
  originalDst(fd: number): string | undefined;
}

/** From the package root: this file runs from tsc's output (dist/src/capture/) and from the bundle (dist/bundle/). */
const ADDON_PATH = join('native', 'build', 'Release', 'weft_original_dst.node');

let loaded: OriginalDstReader | undefined;

/** The process's reader, loaded once. */
export function originalDstReader(): OriginalDstReader {
  loaded ??= loadOriginalDstReader(join(packageRoot(__dirname), ADDON_PATH));
  return loaded;
}

/** A reader from the addon at `path` (the built one unless a test says otherwise). */
export function loadOriginalDstReader(path: string): OriginalDstReader {
  if (process.platform !== 'linux') return unavailable('transparent capture is Linux only (iptables and SO_ORIGINAL_DST)');
  let addon: Addon;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    addon = require(path) as Addon;
  } catch (err) {
    return unavailable(`the SO_ORIGINAL_DST addon is not built (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): run \`npm ci\` (or \`node packages/sidecar/native/build.js\`) with g++, make and python3 installed`);
  }
  return {
    available: true,
    reason: '',
    read(socket) {
      const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (fd === undefined || fd < 0) return undefined;
      const text = addon.originalDst(fd);
      return text === undefined ? undefined : parseHostPort(text);
    },
  };
}

function unavailable(reason: string): OriginalDstReader {
  return { available: false, reason, read: () => undefined };
}

function parseHostPort(text: string): OriginalDst {
  const colon = text.lastIndexOf(':');
  return { host: text.slice(0, colon), port: Number(text.slice(colon + 1)) };
}

/**
 * Whether a connection came through an iptables REDIRECT: its original destination is not the
 * listener's own address (an explicit client dials the listener itself, and conntrack then
 * reports that very address, or nothing).
 */
export function redirectedDst(reader: OriginalDstReader, socket: Socket): OriginalDst | undefined {
  if (!reader.available) return undefined;
  const dst = reader.read(socket);
  if (dst === undefined) return undefined;
  if (dst.port === socket.localPort && (dst.host === socket.localAddress || dst.host === stripV4Mapped(socket.localAddress))) return undefined;
  return dst;
}

function stripV4Mapped(address: string | undefined): string | undefined {
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}
