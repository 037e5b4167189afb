import { expect } from 'chai';
import { parseHostMaybePort } from '../../src/control/address';

describe('parseHostMaybePort (--advertise-address)', () => {
  const good: [string, string, number | undefined][] = [
    ['127.0.0.1', '127.0.0.1', undefined],
    ['10.0.0.7:15006', '10.0.0.7', 15006],
    ['::1', '::1', undefined],
    ['[::1]', '::1', undefined],
    ['[fd00::7]:9000', 'fd00::7', 9000],
    ['fe80::1:8080', 'fe80::1:8080', undefined],
    ['orders-1.weft.internal', 'orders-1.weft.internal', undefined],
    ['orders-1:15006', 'orders-1', 15006],
    [' 192.168.1.5 ', '192.168.1.5', undefined],
  ];
  for (const [text, host, port] of good) {
    it(`reads ${JSON.stringify(text)} as host ${host}${port === undefined ? ' with no port' : ` port ${port}`}`, () => {
      expect(parseHostMaybePort(text, '--advertise-address')).to.deep.equal({ host, port });
    });
  }

  const bad = ['', '10.0.0.7:', '10.0.0.7:0', '10.0.0.7:70000', '999.1.1.1', 'bad_host', 'a..b', '[::1', 'http://10.0.0.7', 'host:port'];
  for (const text of bad) {
    it(`refuses ${JSON.stringify(text)}, saying what it takes`, () => {
      expect(() => parseHostMaybePort(text, '--advertise-address')).to.throw(/--advertise-address must be HOST or HOST:PORT/);
    });
  }
});
