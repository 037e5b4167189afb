import type { CompiledMatch, CompiledRule, HeaderMatcher, StringMatcher } from './types';

/** Request headers as Node gives them: lower-case names; repeated headers joined or listed. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** What route matching reads from a request. */
export interface MatchInput {
  readonly method: string;
  /** The path without its query string. */
  readonly path: string;
  readonly headers: RequestHeaders;
}

/** First match wins: the first rule with no matches, or with one match entry that holds. */
export function selectRule(rules: readonly CompiledRule[], input: MatchInput): CompiledRule | undefined {
  for (const rule of rules) {
    if (rule.matches.length === 0) return rule;
    for (const m of rule.matches) if (matches(m, input)) return rule;
  }
  return undefined;
}

export function matches(m: CompiledMatch, input: MatchInput): boolean {
  if (m.method !== undefined && m.method !== input.method) return false;
  if (m.path !== undefined && !matchString(m.path, input.path)) return false;
  for (const h of m.headers) if (!matchHeader(h, input.headers)) return false;
  return true;
}

function matchHeader(h: HeaderMatcher, headers: RequestHeaders): boolean {
  const raw = headers[h.name];
  if (h.kind === 'present') return (raw !== undefined) === h.present;
  if (raw === undefined) return false;
  // A header sent several times is matched as its values joined, as it reads on the wire.
  return matchString(h, typeof raw === 'string' ? raw : raw.join(', '));
}

export function matchString(m: StringMatcher, value: string): boolean {
  switch (m.kind) {
    case 'exact':
      return value === m.value;
    case 'prefix':
      return value.startsWith(m.value);
    case 'regex':
      return m.regex.test(value);
  }
}
