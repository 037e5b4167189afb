import type { AuthzTable, CompiledAuthzPolicy, CompiledAuthzRule } from '@weft/api';
import { expect } from 'chai';
import { authorizeConnection } from '../../src/inbound/authorize-connection';

const FRONTEND = 'spiffe://weft.local/ns/default/sa/frontend';
const OTHER = 'spiffe://weft.local/ns/default/sa/other';
const POST_ONLY = [{ methods: new Set(['POST']), anyPath: true, exactPaths: new Set<string>(), prefixes: [], source: { methods: ['POST'] } }];

function rule(principals: string[] | undefined, http: boolean): CompiledAuthzRule {
  return { index: 0, principals: principals && new Set(principals), operations: http ? POST_ONLY : undefined, reason: 'test rule' };
}

function table(deny: CompiledAuthzRule[][], allow: CompiledAuthzRule[][]): AuthzTable {
  const policies = (action: 'ALLOW' | 'DENY', list: CompiledAuthzRule[][]): CompiledAuthzPolicy[] =>
    list.map((rules, i) => ({ name: `default/${action.toLowerCase()}-${i}`, action, rules }));
  return { service: 'db', namespace: 'default', trustDomain: 'weft.local', deny: policies('DENY', deny), allow: policies('ALLOW', allow), constrainsPaths: false };
}

describe('inbound/authorize-connection: AuthorizationPolicy for raw TCP (Istio reading)', () => {
  const cases: [string, AuthzTable, string, boolean][] = [
    ['no policies: allowed', table([], []), FRONTEND, true],
    ['no policies, plaintext: allowed', table([], []), '', true],
    ['DENY from the caller', table([[rule([FRONTEND], false)]], []), FRONTEND, false],
    ['DENY from someone else', table([[rule([OTHER], false)]], []), FRONTEND, true],
    ['DENY with HTTP conditions still denies TCP (never spares)', table([[rule([FRONTEND], true)]], []), FRONTEND, false],
    ['DENY of any caller denies plaintext', table([[rule(undefined, false)]], []), '', false],
    ['ALLOW naming the caller', table([], [[rule([FRONTEND], false)]]), FRONTEND, true],
    ['ALLOW naming someone else', table([], [[rule([OTHER], false)]]), FRONTEND, false],
    ['ALLOW with HTTP conditions never grants TCP', table([], [[rule([FRONTEND], true)]]), FRONTEND, false],
    ['ALLOW naming callers: plaintext has no identity', table([], [[rule([FRONTEND], false)]]), '', false],
    ['DENY wins over ALLOW', table([[rule([FRONTEND], false)]], [[rule([FRONTEND], false)]]), FRONTEND, false],
  ];
  for (const [what, t, principal, allowed] of cases) it(what, () => expect(authorizeConnection(t, principal).allowed).to.equal(allowed));

  it('names the refusing DENY policy', () => {
    expect(authorizeConnection(table([[rule([FRONTEND], false)]], []), FRONTEND)).to.deep.equal({ allowed: false, policy: 'default/deny-0', cause: 'deny-rule' });
  });
});
