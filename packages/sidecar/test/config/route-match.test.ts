import { expect } from 'chai';
import { compileSnapshot } from '../../src/config/compiled-config';
import { selectRule, type MatchInput } from '../../src/config/route-match';
import { doc, SELF, service, snapshot } from './snapshot-builder';

describe('route matching (first match wins)', () => {
  const c = compileSnapshot(
    snapshot({
      services: [service('api', [{ address: '10.0.0.1:1' }])],
      resources: [
        doc('Route', 'api', {
          service: 'api',
          rules: [
            { match: [{ path: { exact: '/health' } }] },
            { match: [{ path: { prefix: '/admin' }, method: 'POST' }] },
            { match: [{ path: { regex: '/items/[0-9]+' } }] },
            { match: [{ headers: [{ name: 'x-user', regex: 'qa-.*' }] }, { headers: [{ name: 'x-env', exact: 'staging' }] }] },
            { match: [{ headers: [{ name: 'x-debug', prefix: 'on' }, { name: 'x-trace', present: false }] }] },
            { match: [{ path: { prefix: '/v1' } }] },
          ],
        }),
      ],
    }),
    'v1',
    SELF,
  );
  const rules = c.lookup('api')?.rules ?? [];
  const req = (path: string, method = 'GET', headers: Record<string, string | string[]> = {}): MatchInput => ({ path, method, headers });

  const table: [string, MatchInput, string | undefined][] = [
    ['exact path', req('/health'), 'api/0'],
    ['exact path is not a prefix', req('/healthz'), undefined],
    ['prefix and method', req('/admin/users', 'POST'), 'api/1'],
    ['prefix with the wrong method', req('/admin/users', 'GET'), undefined],
    ['regex matches the whole path', req('/items/42'), 'api/2'],
    ['regex is anchored', req('/items/42/reviews'), undefined],
    ['first of two match entries', req('/x', 'GET', { 'x-user': 'qa-anna' }), 'api/3'],
    ['second of two match entries', req('/x', 'GET', { 'x-env': 'staging' }), 'api/3'],
    ['header regex is anchored', req('/x', 'GET', { 'x-user': 'not-qa-anna' }), undefined],
    ['header prefix and absent header', req('/x', 'GET', { 'x-debug': 'on-verbose' }), 'api/4'],
    ['present:false fails when the header is there', req('/x', 'GET', { 'x-debug': 'on', 'x-trace': '1' }), undefined],
    ['repeated header values are joined', req('/x', 'GET', { 'x-env': ['staging', 'prod'] }), undefined],
    ['a later rule when earlier ones fail', req('/v1/things'), 'api/5'],
  ];
  for (const [what, input, expected] of table) {
    it(what, () => expect(selectRule(rules, input)?.name).to.equal(expected));
  }
});
