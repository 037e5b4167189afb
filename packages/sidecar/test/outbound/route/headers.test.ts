import { expect } from 'chai';
import type { CompiledHeaderRules } from '../../../src/config/types';
import type { HeaderMap } from '../../../src/layers/service';
import { applyHeaderOps, headers } from '../../../src/outbound/route/headers';
import { response } from '../../layers/fakes';

describe('route/headers', () => {
  // Each row: incoming headers, operations, result.
  const rows: [string, HeaderMap, Parameters<typeof applyHeaderOps>[1], HeaderMap][] = [
    ['set replaces', { 'x-a': 'old' }, { remove: [], set: [['x-a', 'new']], add: [] }, { 'x-a': 'new' }],
    ['add appends to a present header', { 'x-a': 'one' }, { remove: [], set: [], add: [['x-a', 'two']] }, { 'x-a': ['one', 'two'] }],
    ['add to a repeated header', { 'x-a': ['one', 'two'] }, { remove: [], set: [], add: [['x-a', 'three']] }, { 'x-a': ['one', 'two', 'three'] }],
    ['add creates a missing header', {}, { remove: [], set: [], add: [['x-a', 'one']] }, { 'x-a': 'one' }],
    ['remove drops', { 'x-a': '1', 'x-b': '2' }, { remove: ['x-a'], set: [], add: [] }, { 'x-b': '2' }],
    ['remove of a missing header is fine', { 'x-b': '2' }, { remove: ['x-a'], set: [], add: [] }, { 'x-b': '2' }],
  ];
  for (const [what, input, ops, expected] of rows) {
    it(what, () => {
      const before = JSON.stringify(input);
      expect(applyHeaderOps(input, ops)).to.deep.equal(expected);
      expect(JSON.stringify(input), 'the input is not changed').to.equal(before);
    });
  }

  it('changes the request it sends and the response it returns', async () => {
    const rules: CompiledHeaderRules = {
      request: { remove: ['x-debug'], set: [['x-tenant', 'blue']], add: [] },
      response: { remove: ['server'], set: [], add: [['x-served-by', 'weft']] },
    };
    let sent: HeaderMap = {};
    const svc = headers({ headers: rules }, async (req: { headers: HeaderMap }) => {
      sent = req.headers;
      return { ...response(200), headers: { server: 'app/1.0', 'content-type': 'text/plain' } };
    });
    const res = await svc({ headers: { 'x-debug': '1', 'x-tenant': 'red', accept: '*/*' } });
    expect(sent).to.deep.equal({ 'x-tenant': 'blue', accept: '*/*' });
    expect(res.headers).to.deep.equal({ 'content-type': 'text/plain', 'x-served-by': 'weft' });
  });

  it('is the next service itself when the rule changes no header', () => {
    const next = async () => response(200);
    expect(headers({ headers: undefined }, next)).to.equal(next);
  });
});
