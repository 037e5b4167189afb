import { expect } from 'chai';
import { parseDocuments, validateDocuments, ValidationError, type PolicyResource } from '../src';

const HEAD = 'apiVersion: weft.dev/v1alpha1';

function check(yaml: string, file = 'policy.yaml'): PolicyResource[] {
  return validateDocuments(parseDocuments(yaml, file));
}

function messages(yaml: string, file = 'policy.yaml'): string[] {
  try {
    check(yaml, file);
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as ValidationError).message.split('\n');
  }
  throw new Error('expected a validation error');
}

describe('validateDocuments', () => {
  describe('accepts valid resources and fills in defaults', () => {
    it('a route with a split, retries and a timeout, in the default namespace', () => {
      const [route] = check(`${HEAD}
kind: Route
metadata: {name: inventory}
spec:
  service: inventory
  rules:
  - match: [{path: {prefix: /api}, method: GET, headers: [{name: x-canary, present: true}]}]
    timeout: 2s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: [5xx, reset], backoff: {baseInterval: 25ms}}
    backends: [{subset: v1, weight: 90}, {subset: v2, weight: 10}]
`);
      expect(route?.kind).to.equal('Route');
      expect(route?.metadata).to.deep.equal({ name: 'inventory', namespace: 'default' });
    });

    it('a mesh-wide MeshConfig has no namespace', () => {
      const [mc] = check(`${HEAD}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {mtls: PERMISSIVE, certificateTTL: 1h, tracing: {otlpEndpoint: "127.0.0.1:4317"}}\n`);
      expect(mc?.metadata.namespace).to.equal('');
    });

    it('several documents, skipping empty ones, keep their file positions', () => {
      const list = check(`---\n${HEAD}\nkind: ServicePolicy\nmetadata: {name: a, namespace: shop}\nspec: {service: a, subsets: [{name: v1, labels: {version: v1}}]}\n---\n# nothing here\n---\n${HEAD}\nkind: AuthorizationPolicy\nmetadata: {name: b}\nspec: {service: b, action: ALLOW, rules: [{from: [{service: a, namespace: shop}, {principal: "spiffe://weft.local/ns/x/sa/y"}], to: [{methods: [GET], paths: ["/api/*"]}]}]}\n`);
      expect(list.map((r) => `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`)).to.deep.equal([
        'ServicePolicy/shop/a',
        'AuthorizationPolicy/default/b',
      ]);
    });
  });

  // Each row: a document and the exact line an operator must see.
  const rejected: { what: string; yaml: string; expected: string }[] = [
    {
      what: 'negative retry attempts',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{retries: {attempts: -1}}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules[0].retries.attempts: must be >= 0',
    },
    {
      what: 'an unknown outboundTrafficPolicy',
      yaml: `${HEAD}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {outboundTrafficPolicy: DENY_ALL}\n`,
      expected: 'routes.yaml: document 1: MeshConfig default: spec.outboundTrafficPolicy: must be one of "ALLOW_ANY", "REGISTRY_ONLY"',
    },
    {
      what: 'a misspelt field',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{retrys: {attempts: 1}}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules[0].retrys: unknown field (check its spelling and indentation)',
    },
    {
      what: 'a bad duration',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{timeout: 2 seconds}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules[0].timeout: must be a positive duration such as "250ms", "2s" or "1m"',
    },
    {
      what: 'weights that do not add up',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{backends: [{subset: a, weight: 90}, {subset: b, weight: 20}]}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules[0].backends: weights must add up to 100 when there are several backends (they add up to 110)',
    },
    {
      what: 'two path matchers at once',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{match: [{path: {exact: /a, prefix: /b}}]}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules[0].match[0].path: set only one of exact, prefix, regex (found exact and prefix)',
    },
    {
      what: 'a regex that does not compile',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{match: [{path: {regex: "(["}}]}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules[0].match[0].path.regex: must be a valid regular expression',
    },
    {
      what: 'an unknown retryOn value',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{retries: {attempts: 1, retryOn: [5xx, sometimes]}}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules[0].retries.retryOn[1]: must be one of "5xx", "gateway-error", "connect-failure", "reset", "unavailable", "resource-exhausted", "cancelled", "deadline-exceeded", "internal"',
    },
    {
      what: 'a missing required field',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {rules: [{}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.service: is required',
    },
    {
      what: 'a wrong type',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: {timeout: 1s}}\n`,
      expected: 'routes.yaml: document 1: Route reviews: spec.rules: must be a list, not a mapping',
    },
    {
      what: 'an unknown kind',
      yaml: `${HEAD}\nkind: VirtualService\nmetadata: {name: reviews}\nspec: {}\n`,
      expected: 'routes.yaml: document 1: VirtualService reviews: kind: must be one of MeshConfig, Route, ServicePolicy, AuthorizationPolicy',
    },
    {
      what: 'a wrong apiVersion',
      yaml: `apiVersion: networking.istio.io/v1\nkind: Route\nmetadata: {name: reviews}\nspec: {service: reviews, rules: [{}]}\n`,
      expected: 'routes.yaml: document 1: Route reviews: apiVersion: must be "weft.dev/v1alpha1"',
    },
    {
      what: 'an invalid name',
      yaml: `${HEAD}\nkind: Route\nmetadata: {name: Reviews_V1}\nspec: {service: reviews, rules: [{}]}\n`,
      expected: 'routes.yaml: document 1: Route Reviews_V1: metadata.name: must be a DNS label: lower-case letters, digits and "-", at most 63 characters',
    },
    {
      what: 'a MeshConfig with a namespace',
      yaml: `${HEAD}\nkind: MeshConfig\nmetadata: {name: default, namespace: prod}\nspec: {}\n`,
      expected: 'routes.yaml: document 1: MeshConfig default: metadata.namespace: MeshConfig is mesh-wide: remove metadata.namespace',
    },
    {
      what: 'a percentage over 100',
      yaml: `${HEAD}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {samplingPercent: 150}}\n`,
      expected: 'routes.yaml: document 1: MeshConfig default: spec.tracing.samplingPercent: must be <= 100',
    },
    {
      what: 'ring-hash without a header',
      yaml: `${HEAD}\nkind: ServicePolicy\nmetadata: {name: a}\nspec: {service: a, loadBalancer: {algorithm: ring-hash}}\n`,
      expected: 'routes.yaml: document 1: ServicePolicy a: spec.loadBalancer.hashHeader: is required when algorithm is ring-hash (name the header to hash on)',
    },
    {
      what: 'an authorization source that is neither a service nor a principal',
      yaml: `${HEAD}\nkind: AuthorizationPolicy\nmetadata: {name: a}\nspec: {service: a, action: ALLOW, rules: [{from: [{team: x}]}]}\n`,
      expected: 'routes.yaml: document 1: AuthorizationPolicy a: spec.rules[0].from[0]: set either service (with an optional namespace) or principal',
    },
    {
      what: 'a document that is not a mapping',
      yaml: `- just\n- a list\n`,
      expected: 'routes.yaml: document 1: must be a mapping with apiVersion, kind, metadata and spec, not a list',
    },
  ];

  for (const row of rejected) {
    it(`rejects ${row.what}`, () => {
      expect(messages(row.yaml, 'routes.yaml')).to.include(row.expected);
    });
  }

  it('reports every problem in every document, naming each document', () => {
    const lines = messages(`${HEAD}\nkind: Route\nmetadata: {name: ok}\nspec: {service: ok, rules: [{}]}\n---\n${HEAD}\nkind: Route\nmetadata: {name: bad}\nspec: {service: bad, rules: [{timeout: x, retries: {attempts: 99}}]}\n`);
    expect(lines).to.deep.equal([
      'policy.yaml: document 2: Route bad: spec.rules[0].timeout: must be a positive duration such as "250ms", "2s" or "1m"',
      'policy.yaml: document 2: Route bad: spec.rules[0].retries.attempts: must be <= 10',
    ]);
  });

  it('rejects the same resource twice in one request', () => {
    const doc = `${HEAD}\nkind: Route\nmetadata: {name: a}\nspec: {service: a, rules: [{}]}\n`;
    expect(messages(`${doc}---\n${doc}`)).to.deep.equal([
      'policy.yaml: document 2: Route a: metadata.name: duplicates policy.yaml: document 1 (each resource may appear once per apply)',
    ]);
  });

  it('rejects YAML syntax errors with the line, and nothing else from the file', () => {
    const lines = messages(`${HEAD}\nkind: Route\nmetadata: {name: a}\nspec: {service: a, rules: [{}]}\n---\nkind: Route\n  metadata: [\n`);
    expect(lines).to.have.length.greaterThan(0);
    for (const line of lines) expect(line).to.match(/^policy\.yaml: document 2: invalid YAML at line \d+, column \d+: /);
  });

  it('rejects duplicate keys, which YAML would otherwise silently overwrite', () => {
    const lines = messages(`${HEAD}\nkind: Route\nmetadata: {name: a}\nspec: {service: a, service: b, rules: [{}]}\n`);
    expect(lines[0]).to.match(/^policy\.yaml: document 1: invalid YAML at line 4/);
  });
});
