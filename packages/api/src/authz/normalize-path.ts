/**
 * Request paths as authorization sees them. A path rule is only as good as the agreement between
 * the sidecar and the app on what a path means: `/public/../admin`, `/%61dmin` and `//admin` all
 * reach `/admin` in many frameworks. So before path rules are matched the path is normalized
 * (RFC 3986 6.2.2, as Envoy's `normalize_path` and `merge_slashes` do), and the app is sent the
 * normalized path, so both sides judge the same string. What cannot be normalized without
 * guessing is refused instead.
 */

export type NormalizedPath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly problem: string };

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const HEX2 = /^[0-9A-Fa-f]{2}$/;
/** Anything that may change under normalization; a path without these is already normal. */
const NEEDS_WORK = /%|\\|#|\/\/|\/\.(?:\/|\.?$|\.\/)/;

/**
 * The normalized path: percent-encoded unreserved characters decoded (and other escapes
 * upper-cased), repeated slashes merged, `.` and `..` segments resolved (never above the root).
 * Refused: an encoded `/` or `\` (`%2F`, `%5C`), a literal `\`, a `#`, a malformed escape, or a
 * path that does not start with `/`: apps disagree on what those mean.
 */
export function normalizePath(raw: string): NormalizedPath {
  if (!raw.startsWith('/')) return { ok: false, problem: 'does not start with "/"' };
  // The common case costs one regex test and allocates nothing.
  if (!NEEDS_WORK.test(raw)) return { ok: true, path: raw };
  if (raw.includes('\\')) return { ok: false, problem: 'holds a backslash, which some apps read as "/"' };
  if (raw.includes('#')) return { ok: false, problem: 'holds "#", which clients never send and apps may cut the path at' };
  const decoded = decodeUnreserved(raw);
  if (!decoded.ok) return decoded;
  return { ok: true, path: resolveSegments(decoded.path) };
}

function decodeUnreserved(raw: string): NormalizedPath {
  if (!raw.includes('%')) return { ok: true, path: raw };
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '%') {
      out += c;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX2.test(hex)) return { ok: false, problem: `holds a malformed escape "${raw.slice(i, i + 3)}"` };
    const ch = String.fromCharCode(parseInt(hex, 16));
    if (ch === '/' || ch === '\\') return { ok: false, problem: `encodes "${ch}" as %${hex}, which apps disagree about` };
    out += UNRESERVED.test(ch) ? ch : `%${hex.toUpperCase()}`;
    i += 2;
  }
  return { ok: true, path: out };
}

function resolveSegments(path: string): string {
  const segments = path.split('/');
  const kept: string[] = [];
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    const last = i === segments.length - 1;
    if (seg === '..') kept.pop();
    else if (seg !== '.' && seg !== '') kept.push(seg);
    // `/a/`, `/a/.` and `/a/b/..` all name a directory: keep the trailing slash.
    if (last) trailingSlash = seg === '' || seg === '.' || seg === '..';
  }
  if (kept.length === 0) return '/';
  return `/${kept.join('/')}${trailingSlash ? '/' : ''}`;
}
