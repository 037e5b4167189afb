import { decide, type AuthzDecision, type AuthzTable } from '@weft/api';
import { BadRequestError, NotReadyError, ProxyError } from '../layers/errors';
import type { Service } from '../layers/service';
import type { TelemetryEvents } from '../telemetry/events';
import type { SpanAttributes } from '../telemetry/trace';

/** The slice of an inbound request this layer reads (a plain object in unit tests). */
export interface AuthorizeRequest {
  readonly method: string;
  /** Path without query, as received. */
  readonly path: string;
  /** Path and query as received; replaced by the normalized path when policies judged that one. */
  readonly target: string;
  readonly config: { readonly authz: AuthzTable } | undefined;
  /** The verified caller; `spiffeId` is '' for a caller without a certificate (plaintext). */
  readonly peer: { readonly spiffeId: string };
  readonly span: { readonly recording: boolean; setAttributes(attributes: SpanAttributes): void };
  readonly record: { readonly source: string; readonly destination: string };
}

/** A request an AuthorizationPolicy refused: 403, naming the policy and how to look into it. */
export class AuthzDeniedError extends ProxyError {
  readonly httpStatus = 403;
  readonly decision: AuthzDecision;

  constructor(decision: AuthzDecision, table: AuthzTable, request: { readonly method: string; readonly principal: string }) {
    const caller = request.principal === '' ? '--plaintext' : `--principal ${request.principal}`;
    super(
      'WEFT_ERR_AUTHZ_DENIED',
      `${decision.reason}: to see why, run \`weftctl auth check ${caller} --to ${table.service} --namespace ${table.namespace} ` +
        `--method ${request.method} --path ${decision.path}\`; to change it, edit the AuthorizationPolicies of ${table.service}`,
    );
    this.decision = decision;
  }
}

/**
 * AuthorizationPolicy enforcement at the destination: DENY rules, then ALLOW rules, decided by
 * the shared `decide` on the table compiled for this config version (no parsing per request).
 * A refused request never reaches the app: 403 with `x-weft-error: WEFT_ERR_AUTHZ_DENIED`, or 400
 * for a path that cannot be judged safely. Either way the SERVER span carries the decision and a
 * `weft:authz-denied` event feeds `weft_requests_denied_total`. An allowed request goes on with
 * the path the rules judged, so that the app sees what was authorized.
 */
export function authorize<R extends AuthorizeRequest>(events: Pick<TelemetryEvents, 'emit'>, next: Service<R>): Service<R> {
  return (req) => {
    const table = req.config?.authz;
    // Fail closed: without a config this sidecar cannot know what its policies say.
    if (!table) return Promise.reject(new NotReadyError('configuration'));
    // No policy at all (the default): allowed as received, and nothing to build unless a recorded span shows it.
    if (table.deny.length === 0 && table.allow.length === 0 && !table.constrainsPaths && !req.span.recording) return next(req);
    const principal = req.peer.spiffeId;
    const decision = decide(table, { principal, method: req.method, path: req.path });
    if (req.span.recording) req.span.setAttributes(spanAttributes(decision)); // unsampled: no attributes to build
    if (!decision.allowed) {
      events.emit('weft:authz-denied', { source: req.record.source, destination: req.record.destination, policy: decision.policy ?? '', cause: decision.cause });
      if (decision.cause === 'ambiguous-path') return Promise.reject(new BadRequestError(decision.reason));
      return Promise.reject(new AuthzDeniedError(decision, table, { method: req.method, principal }));
    }
    if (decision.path === req.path) return next(req);
    const q = req.target.indexOf('?');
    return next({ ...req, path: decision.path, target: q < 0 ? decision.path : `${decision.path}${req.target.slice(q)}` });
  };
}

function spanAttributes(d: AuthzDecision): SpanAttributes {
  const attributes: SpanAttributes = { 'weft.authz.decision': d.allowed ? 'allow' : 'deny', 'weft.authz.cause': d.cause };
  if (d.policy !== undefined) attributes['weft.authz.policy'] = d.policy;
  if (d.rule !== undefined) attributes['weft.authz.rule'] = d.rule;
  return attributes;
}
