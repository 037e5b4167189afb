import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Each service's proto file (with what it imports). */
const SERVICE_FILES = Object.freeze({
  Identity: 'weft/v1alpha1/identity.proto',
  Discovery: 'weft/v1alpha1/discovery.proto',
  Admin: 'weft/v1alpha1/admin.proto',
});
const PROTO_FILES = Object.values(SERVICE_FILES);

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

const cached: Partial<WeftServices> = {};

/**
 * Loads one Weft gRPC service, once per process. A sidecar asks for Identity and Discovery only
 * and so never parses admin.proto (a third of the descriptors' heap).
 */
export function loadWeftService<K extends keyof WeftServices>(service: K): WeftServices[K] {
  const known = cached[service];
  if (known) return known;
  const definition = protoLoader.loadSync(SERVICE_FILES[service], {
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
  cached[service] = loaded.weft.v1alpha1[service];
  return loaded.weft.v1alpha1[service];
}

/** The Weft gRPC services, each loaded when first read (weftctl reads Admin only). */
export function loadWeftServices(): WeftServices {
  return {
    get Identity() {
      return loadWeftService('Identity');
    },
    get Discovery() {
      return loadWeftService('Discovery');
    },
    get Admin() {
      return loadWeftService('Admin');
    },
  };
}
