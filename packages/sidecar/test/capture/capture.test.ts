import { expect } from 'chai';
import { answer, readQuestion, TYPE_A } from '../../src/capture/dns-wire';
import { InitUsageError, parseInitFlags } from '../../src/capture/init-main';
import { chainRules } from '../../src/capture/rules';
import { capturedProtocolOf } from '../../src/listen/sniff';

function plan(argv: string[]) {
  const c = parseInitFlags(argv);
  if (c.kind !== 'install') throw new Error(`expected install, got ${c.kind}`);
  return c.plan;
}

describe('weft-init rules', () => {
  it('exempts the sidecar first, then DNS, loopback, the control plane and exclusions, then redirects', () => {
    const rules = chainRules(plan(['--proxy-uid', '1337', '--dns', '--exclude-outbound-ports', '5432', '--exclude-outbound-cidrs', '10.1.0.0/16', '--inbound-ports', '8080,9090', '--exclude-inbound-ports', '22']));
    expect(rules[0]).to.equal('-A WEFT_OUTPUT -m owner --uid-owner 1337 -j RETURN');
    expect(rules[1]).to.equal('-A WEFT_OUTPUT -p udp --dport 53 -j REDIRECT --to-ports 15053');
    expect(rules).to.include('-A WEFT_OUTPUT -p tcp --dport 5432 -j RETURN');
    expect(rules).to.include('-A WEFT_OUTPUT -d 10.1.0.0/16 -j RETURN');
    expect(rules.indexOf('-A WEFT_OUTPUT -p tcp -j REDIRECT --to-ports 15001')).to.equal(rules.filter((r) => r.startsWith('-A WEFT_OUTPUT')).length - 1);
    expect(rules).to.include('-A WEFT_PREROUTING -p tcp --dport 22 -j RETURN');
    expect(rules).to.include('-A WEFT_PREROUTING -p tcp --dport 15006 -j RETURN');
    expect(rules).to.include('-A WEFT_PREROUTING -p tcp --dport 9090 -j REDIRECT --to-ports 15006');
    expect(rules.some((r) => r === '-A WEFT_PREROUTING -p tcp -j REDIRECT --to-ports 15006')).to.equal(false);
  });

  const bad: [string[], RegExp][] = [
    [[], /--proxy-uid \(or --proxy-gid\) is required/],
    [['--proxy-uid', 'x'], /--proxy-uid must be a number/],
    [['--proxy-uid', '1', '--outbound-port', '70000'], /--outbound-port: ports are numbers/],
    [['--proxy-uid', '1', '--exclude-outbound-cidrs', '10.0.0.0/40'], /not an IPv4 address/],
    [['--proxy-uid', '1', '--bogus'], /bogus/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${JSON.stringify(argv)}`, () => {
      expect(() => parseInitFlags(argv)).to.throw(InitUsageError, message);
    });
  }
});

describe('captured connection sniffing', () => {
  const table: [string, string | undefined][] = [
    ['GET / HTTP/1.1\r\n', 'http1'],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'h2'],
    ['PU', undefined],
    ['ping', 'tcp'],
    ['\x16\x03\x01', 'tcp'],
  ];
  for (const [head, expected] of table) {
    it(`${JSON.stringify(head)} -> ${expected}`, () => expect(capturedProtocolOf(Buffer.from(head, 'latin1'))).to.equal(expected));
  }
});

describe('DNS wire', () => {
  it('reads a query and answers it with A records under the question', () => {
    const query = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 6, ...Buffer.from('Orders'), 4, ...Buffer.from('shop'), 0, 0, 1, 0, 1]);
    const q = readQuestion(query);
    expect(q).to.include({ id: 0x1234, name: 'orders.shop', type: TYPE_A });
    const reply = answer(query, q!, ['10.0.0.7']);
    expect(reply.readUInt16BE(6)).to.equal(1); // one answer
    expect([...reply.subarray(reply.length - 4)]).to.deep.equal([10, 0, 0, 7]);
    expect(reply.readUInt16BE(2) & 0x8000).to.equal(0x8000);
  });
});
