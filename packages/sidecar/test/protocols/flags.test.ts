import { expect } from 'chai';
import { parseFlags, UsageError } from '../../src/flags';

describe('weft-sidecar flags for protocols', () => {
  const base = ['--service', 'orders', '--app-port', '8080', '--control-plane', '127.0.0.1:15012', '--token', 'weft1.x.y.z'];
  const options = (extra: string[]) => {
    const parsed = parseFlags([...base, ...extra], {});
    if (parsed.help) throw new Error('unexpected help');
    return parsed.options;
  };

  it('takes --app-protocol, --http1-upstream and repeated --tcp-forward', () => {
    const o = options(['--app-protocol', 'h2c', '--http1-upstream', 'h2', '--tcp-forward', '5432=db', '--tcp-forward', '6379=cache.infra']);
    expect(o.appProtocol).to.equal('h2c');
    expect(o.http1Upstream).to.equal('h2');
    expect(o.tcpForwards).to.deep.equal([{ localPort: 5432, service: 'db' }, { localPort: 6379, service: 'cache.infra' }]);
  });

  it('leaves the app protocol undeclared (auto) and adds no TCP forwards', () => {
    const o = options([]);
    expect(o.appProtocol).to.equal(undefined);
    expect(o.tcpForwards).to.equal(undefined);
  });

  const bad: [string[], string][] = [
    [['--app-protocol', 'grpc'], '--app-protocol must be one of auto, http1, h2c, tcp'],
    [['--http1-upstream', 'h3'], '--http1-upstream must be one of http1, h2'],
    [['--tcp-forward', 'db'], '--tcp-forward must be LOCALPORT=service[.namespace]'],
    [['--tcp-forward', '70000=db'], 'with a port from 1 to 65535'],
    [['--tcp-forward', '5432=Db_1'], '--tcp-forward must be LOCALPORT=service[.namespace]'],
    [['--tcp-forward', '5432=db', '--tcp-forward', '5432=cache'], 'local port 5432 is given twice'],
  ];
  for (const [extra, message] of bad) {
    it(`refuses ${extra.join(' ')}`, () => {
      expect(() => parseFlags([...base, ...extra], {})).to.throw(UsageError, message);
    });
  }
});
