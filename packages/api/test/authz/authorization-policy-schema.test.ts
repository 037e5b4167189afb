import { expect } from 'chai';
import { parseDocuments, validateDocuments, ValidationError } from '../../src';

const HEAD = 'apiVersion: weft.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: p}';

function problems(spec: string): string[] {
  try {
    validateDocuments(parseDocuments(`${HEAD}\nspec: ${spec}\n`, 'authz.yaml'));
  } catch (err) {
    expect(err).to.be.instanceOf(ValidationError);
    return (err as ValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('AuthorizationPolicy schema', () => {
  const VALID = [
    '{service: orders, action: ALLOW}',
    '{service: orders, action: DENY, rules: [{}]}',
    '{service: orders, action: ALLOW, rules: [{from: [{service: a}, {service: b, namespace: shop}, {principal: "spiffe://other.td/ns/x/sa/y"}]}]}',
    '{service: orders, action: ALLOW, rules: [{to: [{methods: [GET]}, {paths: ["/", "/a/*", "/*"]}]}]}',
  ];
  for (const spec of VALID) it(`accepts ${spec}`, () => expect(problems(spec)).to.deep.equal([]));

  const INVALID: readonly (readonly [string, string])[] = [
    ['{service: orders}', 'spec.action: must be one of "ALLOW", "DENY"'],
    ['{service: orders, action: allow}', 'spec.action: must be one of "ALLOW", "DENY"'],
    ['{service: orders, action: ALLOW, rules: [{from: []}]}', 'spec.rules[0].from: must have at least 1 item'],
    ['{service: orders, action: ALLOW, rules: [{to: []}]}', 'spec.rules[0].to: must have at least 1 item'],
    ['{service: orders, action: ALLOW, rules: [{to: [{methods: []}]}]}', 'spec.rules[0].to[0].methods: must have at least 1 item'],
    ['{service: orders, action: ALLOW, rules: [{to: [{methods: [get]}]}]}', 'spec.rules[0].to[0].methods[0]: must be an upper-case HTTP method'],
    ['{service: orders, action: ALLOW, rules: [{from: [{}]}]}', 'spec.rules[0].from[0]: set either service (with an optional namespace) or principal'],
    ['{service: orders, action: ALLOW, rules: [{from: [{service: a, principal: "spiffe://weft.local/ns/a/sa/b"}]}]}', 'spec.rules[0].from[0]: set either service (with an optional namespace) or principal'],
    ['{service: orders, action: ALLOW, rules: [{from: [{namespace: shop, principal: "spiffe://weft.local/ns/a/sa/b"}]}]}', 'spec.rules[0].from[0].namespace: goes with service, not with principal (a principal names its namespace itself)'],
    ['{service: orders, action: ALLOW, rules: [{from: [{principal: "frontend"}]}]}', 'spec.rules[0].from[0].principal: must be a SPIFFE ID such as "spiffe://weft.local/ns/default/sa/frontend"'],
    ['{service: orders, action: ALLOW, rules: [{from: [{service: Front}]}]}', 'spec.rules[0].from[0].service: must be a DNS label: lower-case letters, digits and "-", at most 63 characters'],
    ['{service: orders, action: ALLOW, rules: [{to: [{paths: ["orders"]}]}]}', 'spec.rules[0].to[0].paths[0]: must start with "/"'],
    ['{service: orders, action: ALLOW, rules: [{to: [{paths: ["/a/*/b"]}]}]}', 'spec.rules[0].to[0].paths[0]: "*" is allowed only at the end (a prefix match such as "/orders/*")'],
    ['{service: orders, action: ALLOW, rules: [{to: [{paths: ["/a?b=1"]}]}]}', 'spec.rules[0].to[0].paths[0]: must be a path without query, fragment or whitespace'],
    ['{service: orders, action: ALLOW, rules: [{from: [{service: a}], when: []}]}', 'spec.rules[0].when: unknown field (check its spelling and indentation)'],
  ];
  for (const [spec, problem] of INVALID) it(`refuses ${spec}`, () => expect(problems(spec)).to.include(problem));
});
