import { expect } from 'chai';
import { parseDocuments, validateDocuments, ValidationError, type PolicyResource } from '../src';

/**
 * The traffic-policy fields of Route and ServicePolicy (issue #3): header manipulation, retry
 * options, gRPC retryOn and load balancer settings. Each row is a document and the exact line an
 * operator must see.
 */
const HEAD = 'apiVersion: weft.dev/v1alpha1';
const route = (rule: string): string => `${HEAD}\nkind: Route\nmetadata: {name: r}\nspec:\n  service: r\n  rules:\n  - ${rule}\n`;
const policy = (spec: string): string => `${HEAD}\nkind: ServicePolicy\nmetadata: {name: p}\nspec: {service: p, ${spec}}\n`;

function check(yaml: string): PolicyResource[] {
  return validateDocuments(parseDocuments(yaml, 'policy.yaml'));
}

function messages(yaml: string): string[] {
  try {
    check(yaml);
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as ValidationError).message.split('\n');
  }
  throw new Error('expected a validation error');
}

describe('traffic policy schema', () => {
  const accepted: { what: string; yaml: string }[] = [
    {
      what: 'header changes on requests and responses',
      yaml: route('headers: {request: {set: {x-tenant: blue}, add: {X-Trail: a}, remove: [x-debug]}, response: {set: {cache-control: no-store}, remove: [server]}}'),
    },
    { what: 'retry options and gRPC retryOn', yaml: route('retries: {attempts: 2, retryOn: [unavailable, resource-exhausted, cancelled, deadline-exceeded, internal, 5xx], retryNonIdempotent: true, attemptsHeader: false}') },
    { what: 'ring-hash with a header', yaml: policy('loadBalancer: {algorithm: ring-hash, hashHeader: x-user}') },
    { what: 'a backoff whose maxInterval equals its baseInterval', yaml: route('retries: {attempts: 2, backoff: {baseInterval: 1s, maxInterval: 1s}}') },
    { what: 'a lone maxInterval above the default baseInterval', yaml: route('retries: {attempts: 2, backoff: {maxInterval: 30ms}}') },
    { what: 'least-request', yaml: policy('loadBalancer: {algorithm: least-request}') },
    {
      what: 'every traffic field of a ServicePolicy',
      yaml: policy(
        'connectionPool: {maxConnections: 10, maxPendingRequests: 0, connectTimeout: 1s, idleTimeout: 1m}, outlierDetection: {consecutiveErrors: 3, interval: 5s, baseEjectionTime: 10s, maxEjectionPercent: 50}, retryBudget: {percent: 20, minRetriesPerSecond: 5}, rateLimit: {requestsPerSecond: 0.5, burst: 2}',
      ),
    },
  ];
  for (const row of accepted) it(`accepts ${row.what}`, () => expect(check(row.yaml)).to.have.length(1));

  const rejected: { what: string; yaml: string; expected: string }[] = [
    {
      what: 'setting a mesh-owned header',
      yaml: route('headers: {request: {set: {X-Weft-Peer-Identity: spiffe://weft.local/ns/default/sa/admin}}}'),
      expected: 'spec.rules[0].headers.request.set.X-Weft-Peer-Identity: is owned by the mesh or by HTTP framing and cannot be changed by a Route',
    },
    {
      what: 'removing a framing header',
      yaml: route('headers: {response: {remove: [x-ok, Content-Length]}}'),
      expected: 'spec.rules[0].headers.response.remove[1]: is owned by the mesh or by HTTP framing and cannot be changed by a Route',
    },
    {
      what: 'changing the trace context',
      yaml: route('headers: {request: {remove: [traceparent]}}'),
      expected: 'spec.rules[0].headers.request.remove[0]: is owned by the mesh or by HTTP framing and cannot be changed by a Route',
    },
    {
      what: 'an invalid header name',
      yaml: route('headers: {request: {add: {"x tenant": blue}}}'),
      expected: 'spec.rules[0].headers.request.add.x tenant: must be a valid HTTP header name',
    },
    {
      what: 'a header value with a line break',
      yaml: route('headers: {request: {set: {x-a: "one\\r\\nx-b: two"}}}'),
      expected: 'spec.rules[0].headers.request.set.x-a: must not contain control characters such as line breaks',
    },
    {
      what: 'one header in two lists',
      yaml: route('headers: {request: {set: {X-A: "1"}, remove: [x-a]}}'),
      expected: 'spec.rules[0].headers.request.remove[0]: names header "x-a" again (already in set): list each header once',
    },
    {
      what: 'an unknown header operation',
      yaml: route('headers: {request: {append: {x-a: "1"}}}'),
      expected: 'spec.rules[0].headers.request.append: unknown field (check its spelling and indentation)',
    },
    {
      what: 'attemptsHeader that is not a boolean',
      yaml: route('retries: {attempts: 1, attemptsHeader: "no"}'),
      expected: 'spec.rules[0].retries.attemptsHeader: must be a boolean, not a string',
    },
    {
      what: 'a backoff whose maxInterval is below its baseInterval',
      yaml: route('retries: {attempts: 2, backoff: {baseInterval: 2s, maxInterval: 1s}}'),
      expected: 'spec.rules[0].retries.backoff.maxInterval: must not be shorter than baseInterval (2s): raise maxInterval or lower baseInterval',
    },
    {
      what: 'a lone maxInterval below the default baseInterval',
      yaml: route('retries: {attempts: 2, backoff: {maxInterval: 10ms}}'),
      expected: 'spec.rules[0].retries.backoff.maxInterval: must not be shorter than the default baseInterval (25ms): raise it, or set a shorter baseInterval',
    },
    {
      what: 'a hashHeader without ring-hash',
      yaml: policy('loadBalancer: {algorithm: round-robin, hashHeader: x-user}'),
      expected: 'spec.loadBalancer.hashHeader: is only used by algorithm ring-hash: remove it, or set algorithm: ring-hash',
    },
    {
      what: 'an invalid hashHeader',
      yaml: policy('loadBalancer: {algorithm: ring-hash, hashHeader: "x user"}'),
      expected: 'spec.loadBalancer.hashHeader: must be a valid HTTP header name',
    },
    {
      what: 'a rate limit of zero',
      yaml: policy('rateLimit: {requestsPerSecond: 0}'),
      expected: 'spec.rateLimit.requestsPerSecond: must be > 0',
    },
    {
      what: 'a retry budget over 100 percent',
      yaml: policy('retryBudget: {percent: 120}'),
      expected: 'spec.retryBudget.percent: must be <= 100',
    },
    {
      what: 'outlier detection without consecutiveErrors',
      yaml: policy('outlierDetection: {baseEjectionTime: 30s}'),
      expected: 'spec.outlierDetection.consecutiveErrors: is required',
    },
  ];
  for (const row of rejected) {
    it(`rejects ${row.what}`, () => {
      const kind = row.yaml.includes('kind: Route') ? 'Route r' : 'ServicePolicy p';
      expect(messages(row.yaml)).to.include(`policy.yaml: document 1: ${kind}: ${row.expected}`);
    });
  }
});
