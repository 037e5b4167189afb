import type { HeaderMatch, RouteMatch, RouteRule, StringMatch } from '@weft/api';

/**
 * Whether every request that `later` matches is also matched by `earlier`, by the sidecar's
 * rules (route-match.ts): method equal, path exact/prefix/regex, every header matcher holds.
 * Conservative: when it cannot tell (two different regexes), it answers no, so a finding is
 * never a guess.
 */
export function matchCovers(earlier: RouteMatch, later: RouteMatch): boolean {
  if (earlier.method !== undefined && earlier.method !== later.method) return false;
  if (earlier.path !== undefined && !pathCovers(earlier.path, later.path)) return false;
  return (earlier.headers ?? []).every((h) => (later.headers ?? []).some((g) => headerCovers(h, g)));
}

/** The matches of a rule; a rule without any matches every request, as one empty match does. */
export function matchesOf(rule: RouteRule): readonly RouteMatch[] {
  return rule.match && rule.match.length > 0 ? rule.match : [{}];
}

/** Whether some match of `earlier` covers each match of `later`: `later` is then never reached. */
export function ruleCovers(earlier: RouteRule, later: RouteRule): boolean {
  return matchesOf(later).every((m) => matchesOf(earlier).some((e) => matchCovers(e, m)));
}

function pathCovers(a: StringMatch, b: StringMatch | undefined): boolean {
  // Every request path starts with "/": a prefix of "/" (or "") is every path.
  if (a.prefix !== undefined && '/'.startsWith(a.prefix)) return true;
  return b !== undefined && stringCovers(a, b);
}

function stringCovers(a: StringMatch, b: StringMatch): boolean {
  if (a.exact !== undefined) return b.exact === a.exact;
  if (a.prefix !== undefined) return (b.exact ?? b.prefix)?.startsWith(a.prefix) === true;
  return a.regex !== undefined && b.regex === a.regex;
}

function headerCovers(h: HeaderMatch, g: HeaderMatch): boolean {
  if (h.name.toLowerCase() !== g.name.toLowerCase()) return false;
  if (h.present !== undefined) return h.present ? g.present !== false : g.present === false;
  return g.present === undefined && stringCovers(h, g);
}
