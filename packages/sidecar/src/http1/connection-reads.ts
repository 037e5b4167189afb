/**
 * One read buffer for every connection the sidecar's pools open (to peer sidecars, to the app).
 * Without it Node allocates for each read: on plain TCP a 64 KiB block from malloc that is then
 * shrunk to what was read, on TLS an exact-size block; each becomes an ArrayBuffer that the
 * young-generation collector has to sweep. With `net.connect`/`tls.connect`'s `onread` option
 * Node reads into this buffer instead and calls back at once, and the bytes are copied out into a
 * Buffer of their own size (from Node's 8 KiB pool when small). Whatever the connection keeps
 * (body slices, a head split across reads, a write still queued) is then its own, exactly as a
 * 'data' chunk was. One buffer serves every socket: the callback runs synchronously on the one
 * thread and nothing refers to the buffer once it returns.
 */
const SHARED = Buffer.allocUnsafe(64 * 1024);

type Reader = (chunk: Buffer) => void;

export class ConnectionReads {
  #reader: Reader | undefined;
  /** Bytes that arrived before a reader was attached (a server that speaks first), in order. */
  #early: Buffer[] | undefined;

  /** The `onread` option for `net.connect` / `tls.connect` (the socket then emits no 'data'). */
  readonly onread = {
    buffer: SHARED,
    // True: go on reading (pausing is the socket's own `pause()`, which works as with 'data').
    callback: (bytes: number): boolean => {
      const chunk = Buffer.allocUnsafe(bytes);
      SHARED.copy(chunk, 0, 0, bytes);
      if (this.#reader) this.#reader(chunk);
      else (this.#early ??= []).push(chunk);
      return true;
    },
  };

  /** Where the reads go from now on; any that came before go first. */
  attach(reader: Reader): void {
    this.#reader = reader;
    const early = this.#early;
    this.#early = undefined;
    if (early) for (const chunk of early) reader(chunk);
  }
}
