import { expect } from 'chai';
import { parsePrometheusText, sumSamples } from '../src/prometheus';

describe('parsePrometheusText', () => {
  const text = [
    '# HELP weft_requests_total Requests.',
    '# TYPE weft_requests_total counter',
    'weft_requests_total{direction="inbound",destination="orders",status="200"} 41',
    'weft_requests_total{direction="inbound",destination="orders",status="503"} 3',
    'weft_requests_total{direction="outbound",destination="inventory",status="200",route="a\\"b,c"} 40 1700000000000',
    'weft_up 1',
    'weft_latency_bucket{le="+Inf"} 44',
    'garbage line',
  ].join('\n');

  it('parses names, labels (with escapes) and values', () => {
    const samples = parsePrometheusText(text);
    expect(samples).to.have.length(5);
    expect(samples[2]).to.deep.equal({
      name: 'weft_requests_total',
      labels: { direction: 'outbound', destination: 'inventory', status: '200', route: 'a"b,c' },
      value: 40,
    });
    expect(samples[3]).to.deep.equal({ name: 'weft_up', labels: {}, value: 1 });
  });

  it('sums samples matching labels', () => {
    const samples = parsePrometheusText(text);
    expect(sumSamples(samples, 'weft_requests_total', { direction: 'inbound' })).to.equal(44);
    expect(sumSamples(samples, 'weft_requests_total', { direction: 'inbound', status: '200' })).to.equal(41);
    expect(sumSamples(samples, 'weft_missing')).to.equal(0);
  });
});
