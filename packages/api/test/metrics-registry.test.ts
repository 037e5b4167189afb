import { expect } from 'chai';
import { escapeLabelValue, Registry, renderLabels } from '../src/metrics-registry';

describe('metrics-registry', () => {
  it('renders counters and gauges with HELP, TYPE and labels', () => {
    const r = new Registry();
    const c = r.counter('weft_requests_total', 'Requests.');
    c.inc({ direction: 'outbound', code: '200' });
    c.inc({ direction: 'outbound', code: '200' }, 2);
    c.inc({ direction: 'inbound', code: '503' });
    r.gauge('weft_config_version', 'Line one\nand a \\ backslash.').set({}, 42);
    expect(r.render()).to.equal(
      [
        '# HELP weft_requests_total Requests.',
        '# TYPE weft_requests_total counter',
        'weft_requests_total{direction="outbound",code="200"} 3',
        'weft_requests_total{direction="inbound",code="503"} 1',
        '# HELP weft_config_version Line one\\nand a \\\\ backslash.',
        '# TYPE weft_config_version gauge',
        'weft_config_version 42',
        '',
      ].join('\n'),
    );
  });

  it('renders histograms with cumulative buckets, +Inf, sum and count', () => {
    const r = new Registry();
    const h = r.histogram('lat_seconds', 'Latency.', [0.1, 1]);
    h.observe({ d: 'x' }, 0.05);
    h.observe({ d: 'x' }, 0.5);
    h.observe({ d: 'x' }, 5);
    expect(r.render()).to.equal(
      [
        '# HELP lat_seconds Latency.',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{d="x",le="0.1"} 1',
        'lat_seconds_bucket{d="x",le="1"} 2',
        'lat_seconds_bucket{d="x",le="+Inf"} 3',
        'lat_seconds_sum{d="x"} 5.55',
        'lat_seconds_count{d="x"} 3',
        '',
      ].join('\n'),
    );
  });

  it('escapes label values', () => {
    expect(escapeLabelValue('a"b\\c\nd')).to.equal('a\\"b\\\\c\\nd');
    expect(renderLabels({ path: '/x"y' })).to.equal('{path="/x\\"y"}');
    expect(renderLabels({})).to.equal('');
  });

  it('returns the same metric for the same name and refuses a type clash or a bad name', () => {
    const r = new Registry();
    expect(r.counter('a_total', 'x')).to.equal(r.counter('a_total', 'x'));
    expect(() => r.gauge('a_total', 'x')).to.throw(/already registered as a counter/);
    expect(() => r.gauge('bad-name', 'x')).to.throw(/invalid metric name/);
    expect(() => r.gauge('ok', 'x').set({ 'bad-label': 'v' }, 1)).to.throw(/invalid label name/);
  });

  it('a bound series is the one labels find: counting through it renders the same lines', () => {
    const r = new Registry();
    const c = r.counter('c_total', 'C.');
    const h = r.histogram('h_seconds', 'H.', [0.1, 1]);
    const bound = c.bind({ route: 'a', code: '200' });
    bound.inc();
    c.inc({ route: 'a', code: '200' });
    bound.inc(2);
    const hb = h.bind({ d: 'x' });
    hb.observe(0.1); // on a bucket's bound: counts in that bucket (le)
    h.observe({ d: 'x' }, 1.5);
    hb.observe(Number.NaN); // no bucket, only +Inf and the count
    expect(r.render()).to.contain('c_total{route="a",code="200"} 4\n');
    expect(r.render()).to.contain(['h_seconds_bucket{d="x",le="0.1"} 1', 'h_seconds_bucket{d="x",le="1"} 1', 'h_seconds_bucket{d="x",le="+Inf"} 3'].join('\n'));
  });
});
