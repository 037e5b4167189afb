import { inspect } from 'node:util';
import { ControlError } from './errors';

const PREFIX = 'weft1';
const FINGERPRINT_RE = /^[0-9a-f]{64}$/;
/** Printable ASCII except the separator; the control plane picks the exact alphabet. */
const PART_RE = /^[\x21-\x2d\x2f-\x7e]+$/;
const HINT = 'expected weft1.<root-sha256>.<id>.<secret>, as printed by `weftctl token create`';

/**
 * A parsed join token: `weft1.<root-sha256-hex>.<id>.<secret>`. The fingerprint pins the control
 * plane's root on first contact (as `kubeadm join` does); the whole text goes to Identity.Sign.
 *
 * The secret sits in a #private field and the object prints and serialises as redacted, so that
 * passing a token to a logger by mistake cannot leak it.
 */
export class JoinToken {
  /** SHA-256 of the root certificate's DER, lower-case hex. */
  readonly rootFingerprint: string;
  /** The token's public id: safe to log, useful to tell tokens apart. */
  readonly id: string;
  readonly #text: string;

  private constructor(rootFingerprint: string, id: string, text: string) {
    this.rootFingerprint = rootFingerprint;
    this.id = id;
    this.#text = text;
  }

  /** Parses a token; the error names what is wrong and never repeats the secret. */
  static parse(input: string): JoinToken {
    const text = input.trim();
    if (text === '') throw bad('the join token is empty');
    const parts = text.split('.');
    if (parts[0] !== PREFIX) {
      throw bad(`the join token does not start with "${PREFIX}." (${HINT})`);
    }
    if (parts.length !== 4) {
      throw bad(`the join token has ${parts.length} dot-separated fields instead of 4 (${HINT})`);
    }
    const [, fingerprint, id, secret] = parts as [string, string, string, string];
    const fp = fingerprint.toLowerCase();
    if (!FINGERPRINT_RE.test(fp)) {
      throw bad(`the join token's root fingerprint (field 2) must be 64 hex characters, got ${fingerprint.length} characters`);
    }
    if (!PART_RE.test(id)) throw bad('the join token\'s id (field 3) is empty or holds whitespace or control characters');
    if (!PART_RE.test(secret)) throw bad('the join token\'s secret (field 4) is empty or holds whitespace or control characters');
    return new JoinToken(fp, id, `${PREFIX}.${fp}.${id}.${secret}`);
  }

  /** The full token, for the Sign request only. */
  reveal(): string {
    return this.#text;
  }

  toString(): string {
    return `${PREFIX}.${this.rootFingerprint}.${this.id}.<redacted>`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return `JoinToken(${this.toString()})`;
  }
}

function bad(message: string): ControlError {
  return new ControlError('WEFT_ERR_BAD_TOKEN', message);
}
