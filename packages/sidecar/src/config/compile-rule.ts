import { maxHeaderSize } from 'node:http';
import { parseDuration, type HeaderMatch, type HeaderOps, type RouteMatch, type RouteRule, type StringMatch } from '@weft/api';
import { DEFAULT_RETRY_POLICY, RETRY_DEFAULTS } from '../layers/retry-defaults';
import { ConfigCompileError } from './errors';
import type {
  CompiledBackend,
  CompiledFault,
  CompiledHeaderOps,
  CompiledHeaderRules,
  CompiledMatch,
  CompiledRetryBudget,
  CompiledRetryPolicy,
  CompiledRule,
  Destination,
  HeaderMatcher,
  StringMatcher,
  WeightedBackends,
} from './types';

/** Finds (or builds) the one backend object per subset of a destination; `undefined` = all endpoints. */
export type BackendFor = (subset: string | undefined) => CompiledBackend;

/** Where a rule came from, so that a compile error can point at it. */
export interface RuleOrigin {
  readonly route: string;
  readonly index: number;
}

/** What a rule takes from its destination rather than from its Route. */
export interface RuleContext {
  readonly destination: Destination;
  readonly backendFor: BackendFor;
  readonly retryBudget: CompiledRetryBudget;
}

/** Compiles one Route rule: matchers pre-built (regexes compiled here, once), durations in ms. */
export function compileRule(rule: RouteRule, origin: RuleOrigin, context: RuleContext): CompiledRule {
  const { destination, backendFor } = context;
  const at = `Route ${origin.route}: spec.rules[${origin.index}]`;
  return Object.freeze({
    name: `${origin.route}/${origin.index}`,
    destination,
    matches: Object.freeze((rule.match ?? []).map((m, i) => compileMatch(m, `${at}.match[${i}]`))),
    split: compileSplit(rule.backends ?? [{}], backendFor),
    timeoutMs: ms(rule.timeout, `${at}.timeout`),
    retry: compileRetry(rule.retries, `${at}.retries`),
    retryBudget: context.retryBudget,
    fault: compileFault(rule.fault, `${at}.fault`),
    headers: compileHeaders(rule.headers, `${at}.headers`),
  });
}

/** The rule in force when no Route names a destination: every endpoint, the default retry, no timeout. */
export function defaultRule(context: RuleContext): CompiledRule {
  const { destination, backendFor } = context;
  return Object.freeze({
    name: 'default',
    destination,
    matches: Object.freeze([]),
    split: compileSplit([{}], backendFor),
    timeoutMs: undefined,
    retry: DEFAULT_RETRY_POLICY,
    retryBudget: context.retryBudget,
    fault: undefined,
    headers: undefined,
  });
}

function compileMatch(m: RouteMatch, at: string): CompiledMatch {
  return Object.freeze({
    path: m.path ? compileString(m.path, `${at}.path`) : undefined,
    method: m.method,
    headers: Object.freeze((m.headers ?? []).map((h, i) => compileHeader(h, `${at}.headers[${i}]`))),
  });
}

function compileHeader(h: HeaderMatch, at: string): HeaderMatcher {
  // Node lower-cases incoming header names; matching compares against that form.
  const name = h.name.toLowerCase();
  if (h.present !== undefined) return Object.freeze({ name, kind: 'present', present: h.present });
  return Object.freeze({ name, ...compileString(h, at) });
}

function compileString(m: StringMatch, at: string): StringMatcher {
  if (m.exact !== undefined) return Object.freeze({ kind: 'exact', value: m.exact });
  if (m.prefix !== undefined) return Object.freeze({ kind: 'prefix', value: m.prefix });
  const source = m.regex ?? '';
  try {
    return Object.freeze({ kind: 'regex', regex: new RegExp(`^(?:${source})$`), source });
  } catch (err) {
    throw new ConfigCompileError(`${at}.regex: must be a valid regular expression (${(err as Error).message})`);
  }
}

function compileSplit(list: readonly { subset?: string | undefined; weight?: number | undefined }[], backendFor: BackendFor): WeightedBackends {
  // A single backend takes all traffic whatever its weight; several carry weights adding up to 100.
  const weights = list.length === 1 ? [100] : list.map((b) => b.weight ?? 0);
  const backends: CompiledBackend[] = [];
  const cumulative: number[] = [];
  let total = 0;
  list.forEach((b, i) => {
    const w = weights[i] ?? 0;
    if (w <= 0) return; // a zero-weight backend is never picked; leaving it out keeps the pick loop short
    total += w;
    backends.push(backendFor(b.subset));
    cumulative.push(total);
  });
  return Object.freeze({ backends: Object.freeze(backends), cumulative: Object.freeze(cumulative), total });
}

/** A Route's `retries`; none given is the mesh's default retry, `attempts: 0` is no retry at all. */
function compileRetry(r: RouteRule['retries'], at: string): CompiledRetryPolicy | undefined {
  if (!r) return DEFAULT_RETRY_POLICY;
  if (r.attempts === 0) return undefined;
  const base = ms(r.backoff?.baseInterval, `${at}.backoff.baseInterval`) ?? RETRY_DEFAULTS.backoffBaseMs;
  const max = ms(r.backoff?.maxInterval, `${at}.backoff.maxInterval`) ?? Math.max(RETRY_DEFAULTS.backoffMaxMs, base);
  if (max < base) throw new ConfigCompileError(`${at}.backoff.maxInterval: must not be shorter than baseInterval`);
  return Object.freeze({
    maxTries: r.attempts + 1,
    perTryTimeoutMs: ms(r.perTryTimeout, `${at}.perTryTimeout`),
    retryOn: Object.freeze(new Set(r.retryOn ?? RETRY_DEFAULTS.retryOn)),
    backoffBaseMs: base,
    backoffMaxMs: max,
    retryNonIdempotent: r.retryNonIdempotent ?? RETRY_DEFAULTS.retryNonIdempotent,
    attemptsHeader: r.attemptsHeader ?? RETRY_DEFAULTS.attemptsHeader,
    byDefault: false,
  });
}

function compileHeaders(h: RouteRule['headers'], at: string): CompiledHeaderRules | undefined {
  if (!h || (!h.request && !h.response)) return undefined;
  checkAddedRequestHeaders(h.request, `${at}.request`);
  return Object.freeze({ request: compileHeaderOps(h.request), response: compileHeaderOps(h.response) });
}

/**
 * Request headers a rule sets or adds must fit in the HTTP header limit of this sidecar's Node
 * (`http.maxHeaderSize`, 16 KiB unless the host sets `--max-http-header-size`), which every peer
 * sidecar's inbound parser enforces too: beyond it each request on the rule would be refused with
 * 431. The schema cannot know that limit (it is the sidecar host's), so the sidecar refuses the
 * config here (NACK) rather than fail every request later.
 */
function checkAddedRequestHeaders(ops: HeaderOps | undefined, at: string): void {
  let bytes = 0;
  for (const map of [ops?.set, ops?.add]) {
    for (const [name, value] of Object.entries(map ?? {})) bytes += Buffer.byteLength(`${name}: ${value}\r\n`);
  }
  if (bytes > maxHeaderSize) {
    throw new ConfigCompileError(
      `${at}: sets and adds ${bytes} bytes of request headers, more than this sidecar's HTTP header limit of ${maxHeaderSize} bytes (node --max-http-header-size): every request on this rule would be refused with 431; shorten the values or raise the limit on every sidecar host`,
    );
  }
}

/** Names lower-cased once (Node and undici give header maps in lower case); values as written. */
function compileHeaderOps(ops: HeaderOps | undefined): CompiledHeaderOps | undefined {
  if (!ops) return undefined;
  const pairs = (map: Readonly<Record<string, string>> | undefined): readonly (readonly [string, string])[] =>
    Object.freeze(Object.entries(map ?? {}).map(([name, value]) => Object.freeze([name.toLowerCase(), value] as const)));
  return Object.freeze({
    remove: Object.freeze((ops.remove ?? []).map((name) => name.toLowerCase())),
    set: pairs(ops.set),
    add: pairs(ops.add),
  });
}

function compileFault(f: RouteRule['fault'], at: string): CompiledFault | undefined {
  if (!f || (!f.delay && !f.abort)) return undefined;
  return Object.freeze({
    delay: f.delay ? Object.freeze({ percent: f.delay.percent, ms: ms(f.delay.fixedDelay, `${at}.delay.fixedDelay`) ?? 0 }) : undefined,
    abort: f.abort ? Object.freeze({ percent: f.abort.percent, status: f.abort.httpStatus }) : undefined,
  });
}

/** A duration as ms, or undefined when absent; `at` names the field in the error. */
export function ms(text: string | undefined, at: string): number | undefined {
  if (text === undefined) return undefined;
  const value = parseDuration(text);
  if (value === undefined || value <= 0) throw new ConfigCompileError(`${at}: must be a positive duration such as "250ms"`);
  return value;
}
