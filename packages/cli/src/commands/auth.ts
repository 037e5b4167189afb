import {
  compileAuthorization,
  decide,
  DEFAULT_NAMESPACE,
  DEFAULT_TRUST_DOMAIN,
  describeAuthorization,
  spiffeId,
  validateDocuments,
  ValidationError,
  type AuthorizationPolicy,
  type AuthzDecision,
  type AuthzTable,
} from '@weft/api';
import type { ParsedArgs } from '../args';
import { CliError, EXIT, UsageError } from '../errors';
import { parseOutputFormat, toJson } from '../output/format';
import { renderTable } from '../output/table';
import type { Command, CommandContext } from './command';
import { knownServices, unknownServiceWarning } from './known-services';
import { checkName, expectPositionals, outputFlag } from './shared-flags';

/** What was asked: one request from one caller to one service. */
interface Question {
  /** The caller's SPIFFE ID, or '' for a caller without identity (plaintext in PERMISSIVE mode). */
  readonly principal: CallerOf;
  /** The calling service as --from named it, to check that it exists. */
  readonly from: { readonly service: string; readonly namespace: string } | undefined;
  readonly service: string;
  readonly namespace: string;
  readonly method: string;
  readonly path: string;
}

/** The caller's principal once the trust domain is known (it comes with the configuration). */
type CallerOf = (trustDomain: string) => string;

function callerOf(args: ParsedArgs, destinationNamespace: string, command: string): CallerOf {
  const given = ['from', 'principal', 'plaintext'].filter((f) => args.has(f));
  if (given.length !== 1) throw new UsageError('name the caller once: --from SERVICE, --principal SPIFFE-ID or --plaintext', command);
  if (args.has('from-namespace') && !args.has('from')) throw new UsageError('--from-namespace goes with --from', command);
  if (args.has('plaintext')) return () => '';
  const principal = args.string('principal');
  if (principal !== undefined) {
    if (!/^spiffe:\/\/[^/\s]+\/\S*$/.test(principal)) throw new UsageError(`--principal "${principal}" is not a SPIFFE ID such as spiffe://weft.local/ns/default/sa/frontend`, command);
    return () => principal;
  }
  const service = checkName(args.string('from') as string, 'caller service', command);
  // A caller named without a namespace lives where the destination does, as `{service}` in a policy.
  const namespace = checkName(args.string('from-namespace') ?? destinationNamespace, 'caller namespace', command);
  return (trustDomain) => spiffeId({ trustDomain, namespace, service });
}

function questionOf(args: ParsedArgs, command: string): Question {
  const to = args.string('to');
  if (to === undefined) throw new UsageError('--to SERVICE is required (the service whose policies decide)', command);
  const method = args.string('method');
  if (method === undefined || !/^[A-Za-z]+$/.test(method)) throw new UsageError('--method is required: an HTTP method such as GET', command);
  const target = args.string('path');
  if (target === undefined || !target.startsWith('/')) throw new UsageError('--path is required and starts with "/" (e.g. --path /orders/7)', command);
  const namespace = checkName(args.string('namespace') ?? DEFAULT_NAMESPACE, 'namespace', command);
  const q = target.indexOf('?');
  const from = args.string('from');
  return {
    principal: callerOf(args, namespace, command),
    from: from === undefined ? undefined : { service: from, namespace: args.string('from-namespace') ?? namespace },
    service: checkName(to, 'service', command),
    namespace,
    method: method.toUpperCase(),
    // The query plays no part in authorization; the sidecar matches the path alone.
    path: q < 0 ? target : target.slice(0, q),
  };
}

type Resolved = Omit<Question, 'principal'> & { readonly principal: string };

/** The stored policies, validated as a sidecar validates its snapshot, so both judge the same objects. */
async function fetchPolicies(ctx: CommandContext, namespace: string): Promise<AuthorizationPolicy[]> {
  const { api } = await ctx.connect();
  const response = await api.get({ kind: 'AuthorizationPolicy', namespace, name: '' });
  try {
    const docs = response.itemsJson.map((json, i) => ({ source: 'control-plane', document: i + 1, value: JSON.parse(json) as unknown }));
    return validateDocuments(docs).filter((r): r is AuthorizationPolicy => r.kind === 'AuthorizationPolicy');
  } catch (err) {
    const why = err instanceof ValidationError ? err.message : (err as Error).message;
    throw new CliError('WEFT_ERR_BAD_POLICY', `the control plane returned an AuthorizationPolicy this weftctl cannot read (is it older than the control plane?):\n${why}`);
  }
}

function httpStatusOf(d: AuthzDecision): number | null {
  if (d.allowed) return null;
  return d.cause === 'ambiguous-path' ? 400 : 403;
}

/** What an operator who wants the other outcome would change. */
function nextStep(q: Resolved, d: AuthzDecision): string | undefined {
  switch (d.cause) {
    case 'deny-rule':
      return `to allow it, narrow or remove rule ${d.rule} of the DENY policy ${d.policy}`;
    case 'no-allow-match':
      return `to allow it, add a rule naming this caller and operation to an ALLOW policy of ${q.service} (weftctl get authorizationpolicies -n ${q.namespace})`;
    case 'ambiguous-path':
      return 'send the path decoded (the sidecar answers 400 to any caller)';
    default:
      return undefined;
  }
}

function renderText(q: Resolved, table: AuthzTable, d: AuthzDecision): string {
  const verdict = d.allowed ? 'ALLOWED' : `DENIED (${httpStatusOf(d) ?? ''} ${d.cause === 'ambiguous-path' ? 'WEFT_ERR_BAD_REQUEST' : 'WEFT_ERR_AUTHZ_DENIED'})`;
  const lines = [
    `${verdict}: ${d.reason}`,
    `  caller:  ${q.principal || '(no identity: plaintext)'}`,
    `  request: ${q.method} ${q.path} -> ${q.service}.${q.namespace}`,
  ];
  if (d.path !== q.path) lines.push(`  judged:  ${d.path} (the normalized path; the app receives this one)`);
  const next = nextStep(q, d);
  if (next) lines.push(`  next:    ${next}`);
  const view = describeAuthorization(table);
  if (view.policies.length === 0) {
    lines.push(`  no AuthorizationPolicy applies to ${q.service}.${q.namespace}: every caller is allowed`);
  } else {
    lines.push('  policies, in the order they are checked (DENY first):');
    const rows = view.policies.map((p) => [
      p.action,
      p.policy,
      `${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}`,
      p.policy === d.policy ? `<- rule ${d.rule} matched` : '',
    ]);
    lines.push(...renderTable(['ACTION', 'POLICY', 'RULES', ''], rows).trimEnd().split('\n').map((l) => `    ${l.trimEnd()}`));
  }
  lines.push(
    `Computed by the same code the sidecars of ${q.service} run, from the policies stored now; a sidecar`,
    'enforces them once it has ACKed the new version (weftctl proxy-status).',
  );
  return `${lines.join('\n')}\n`;
}

export const authCommand: Command = {
  name: 'auth check',
  summary: 'explain whether AuthorizationPolicies let a caller make a request, and which policy decides',
  usage: 'auth check (--from S [--from-namespace N] | --principal ID | --plaintext) --to D [-n NS] --method M --path P [-o table|json]',
  flags: [
    { name: 'from', value: 'S', description: 'the calling service' },
    { name: 'from-namespace', value: 'N', description: 'namespace of the calling service (default: the destination\'s namespace)' },
    { name: 'principal', value: 'ID', description: 'the caller as a SPIFFE ID, instead of --from' },
    { name: 'plaintext', description: 'a caller without identity (plaintext in PERMISSIVE mode), instead of --from' },
    { name: 'to', value: 'D', description: 'the destination service, whose policies decide (required)' },
    { name: 'namespace', short: 'n', value: 'NS', description: `namespace of the destination (default "${DEFAULT_NAMESPACE}")` },
    { name: 'method', value: 'M', description: 'HTTP method of the request (required)' },
    { name: 'path', value: 'P', description: 'request path, e.g. /orders/7 (required; a query is ignored)' },
    outputFlag(['table', 'json']),
  ],
  details:
    "Fetches the destination's AuthorizationPolicies from the control plane and decides the request with\n" +
    'the code every sidecar runs at its inbound port: DENY rules first, then, if any ALLOW policy exists,\n' +
    'one of its rules must match. It prints the decision and the policy and rule that made it.\n' +
    'A --to or --from service the control plane does not know (no endpoints, no policy names it) gets\n' +
    'a warning on stderr, with the closest known name; the decision is printed all the same.\n\n' +
    'Exit codes: 0 allowed, 1 denied (or the check could not be made: then stdout is empty and stderr\n' +
    'says why), 2 usage error.\n\n' +
    'Examples:\n  weftctl auth check --from frontend --to orders --method GET --path /orders/7\n' +
    '  weftctl auth check --principal spiffe://weft.local/ns/ops/sa/admin --to orders -n shop --method DELETE --path /orders/7 -o json',
  async run(ctx: CommandContext, args: ParsedArgs): Promise<number> {
    expectPositionals(args, 0, 0, this.usage, this.name);
    const output = parseOutputFormat(args.string('output'), ['table', 'json'], this.name);
    const asked = questionOf(args, this.name);
    const { api, config } = await ctx.connect();
    const trustDomain = config.config.trustDomain || DEFAULT_TRUST_DOMAIN;
    const q = { ...asked, principal: asked.principal(trustDomain) };
    // The decision stands either way (an unknown service has no policies, so it is usually
    // ALLOWED): the warning says the answer is likely about a typo, not about the service meant.
    const known = await knownServices(api);
    const warnings = [
      unknownServiceWarning(known, '--to', q.service, q.namespace),
      q.from && unknownServiceWarning(known, '--from', q.from.service, q.from.namespace),
    ];
    for (const w of warnings) if (w) ctx.io.stderr(w);
    const table = compileAuthorization(await fetchPolicies(ctx, q.namespace), q.service, q.namespace, { trustDomain });
    const d = decide(table, { principal: q.principal, method: q.method, path: q.path });
    if (output === 'json') {
      ctx.io.stdout(
        toJson({
          ...d,
          httpStatus: httpStatusOf(d),
          caller: q.principal,
          destination: { service: q.service, namespace: q.namespace },
          request: { method: q.method, path: q.path },
          policies: describeAuthorization(table).policies,
        }),
      );
    } else {
      ctx.io.stdout(renderText(q, table, d));
    }
    return d.allowed ? EXIT.ok : EXIT.failed;
  },
};
