import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_FILES = ['weft/v1alpha1/identity.proto', 'weft/v1alpha1/discovery.proto', 'weft/v1alpha1/admin.proto'];

/** Finds the repository's `proto/` folder from wherever this module was built to. */
export function protoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, 'proto');
    if (fs.existsSync(path.join(candidate, PROTO_FILES[0] as string))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find proto/${PROTO_FILES[0]} above ${__dirname}`);
    dir = parent;
  }
}

export interface WeftServices {
  Identity: grpc.ServiceClientConstructor;
  Discovery: grpc.ServiceClientConstructor;
  Admin: grpc.ServiceClientConstructor;
}

let cached: WeftServices | undefined;

/** Loads the Weft gRPC services once per process. */
export function loadWeftServices(): WeftServices {
  if (cached) return cached;
  const definition = protoLoader.loadSync(PROTO_FILES, {
    includeDirs: [protoRoot()],
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    weft: { v1alpha1: WeftServices };
  };
  cached = loaded.weft.v1alpha1;
  return cached;
}
