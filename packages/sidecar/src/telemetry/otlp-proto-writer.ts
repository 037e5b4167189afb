/**
 * A protobuf writer for one OTLP export request at a time, into a scratch buffer kept between
 * requests. Unlike the exporter's own writer it makes one pass: no size-estimating pass first
 * (the scratch buffer is already large; it doubles when not), an ASCII string is checked and
 * copied in the same loop, and a length-delimited field reserves one byte for its length and
 * moves its content only when the length needs more (as the exporter's writer does, so both
 * produce the same bytes).
 */
export class ProtoWriter {
  #buf: Buffer;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Starts a new message; earlier bytes are forgotten. */
  reset(): void {
    this.pos = 0;
  }

  /** The buffer written into now (it changes when it grows or restarts). */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** Bytes left before the buffer must grow. */
  free(): number {
    return this.#buf.length - this.pos;
  }

  /**
   * Continues in a new buffer of `bytes`, leaving the old one as it is: whoever holds the old
   * buffer still reads what was written into it.
   */
  restart(bytes: number): void {
    this.#buf = Buffer.allocUnsafe(bytes);
    this.pos = 0;
  }

  /** Continues at the start of `buffer` (a reused slab), leaving the old buffer as it is. */
  restartIn(buffer: Buffer): void {
    this.#buf = buffer;
    this.pos = 0;
  }

  /** Copies bytes written elsewhere (a span encoded when it ended). */
  raw(source: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.#room(n);
    this.#buf.set(source.subarray(start, end), this.pos);
    this.pos += n;
  }

  /** What was written, in place: valid until the writer is reset. */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.pos);
  }

  /** A copy of what was written: the scratch buffer is reused by the next request. */
  finish(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.#buf, 0, this.pos);
  }

  #room(bytes: number): void {
    if (this.pos + bytes <= this.#buf.length) return;
    let size = Math.max(this.#buf.length * 2, 1024);
    while (size < this.pos + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.#buf.copy(grown, 0, 0, this.pos);
    this.#buf = grown;
  }

  tag(field: number, wireType: number): void {
    const key = (field << 3) | wireType;
    if (key > 0x7f) {
      this.varint(key);
      return;
    }
    this.#room(1);
    this.#buf[this.pos++] = key;
  }

  varint(value: number): void {
    this.#room(10);
    const buf = this.#buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    // Beyond 32 bits (or negative: two's complement over 64), as [low, high] words.
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / 0x100000000) >>> 0;
    } else {
      const abs = Math.abs(value);
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / 0x100000000) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 0x7f) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 0x7f;
  }

  fixed32(value: number): void {
    this.#room(4);
    this.#buf.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(low: number, high: number): void {
    this.#room(8);
    this.#buf.writeUInt32LE(low >>> 0, this.pos);
    this.#buf.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(value: number): void {
    this.#room(8);
    this.#buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.#room(value.length);
    this.#buf.set(value, this.pos);
    this.pos += value.length;
  }

  /** Lower-case or upper-case hex as the bytes it spells (trace and span ids), length-prefixed. */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.varint(n);
    this.#room(n);
    const buf = this.#buf;
    for (let i = 0; i < n; i++) buf[this.pos++] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  }

  /** UTF-8, length-prefixed. ASCII (every string Weft itself makes) is copied as it is checked. */
  string(value: string): void {
    const len = value.length;
    if (len < 0x80) {
      this.#room(len + 1);
      const buf = this.#buf;
      const start = this.pos;
      buf[start] = len;
      let p = start + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        buf[p++] = c;
      }
      if (i === len) {
        this.pos = p;
        return;
      }
    }
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.varint(byteLength);
    this.#room(byteLength);
    this.pos += this.#buf.write(value, this.pos, byteLength, 'utf8');
  }

  /** Reserves the length of a message that follows; `endMessage` writes it. */
  beginMessage(): number {
    this.#room(1);
    return this.pos++;
  }

  endMessage(at: number): void {
    const length = this.pos - at - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.#room(size - 1);
      this.#buf.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
    }
    const buf = this.#buf;
    let v = length;
    let p = at;
    while (v > 0x7f) {
      buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[p] = v;
  }
}

function nibble(c: number): number {
  // 0-9, a-f, and anything else as A-F, as the exporter's own hexToBinary reads it.
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c - 55;
}

function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}
