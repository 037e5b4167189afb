import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { describeGrpcError } from '../src/admin-client';
import type { LoadedConfig } from '../src/client-config';

const LOADED = { path: '/home/op/.weft/config.json', config: { endpoint: '127.0.0.1:15012' } } as LoadedConfig;

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

describe('describeGrpcError', () => {
  it('turns the control plane\'s message-size refusal into the limit and what to do', () => {
    const err = describeGrpcError(serviceError(grpc.status.RESOURCE_EXHAUSTED, 'Received message larger than max (5000000 vs 4194304)'), LOADED);
    expect(err.code).to.equal('WEFT_ERR_APPLY_TOO_LARGE');
    expect(err.message).to.equal(
      'the control plane at 127.0.0.1:15012 refused the request as too large (Received message larger than max (5000000 vs 4194304)); it accepts at most 4 MiB per request: split the resources into several files and apply each on its own',
    );
  });
});
