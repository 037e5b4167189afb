/**
 * A test's own gRPC clients to a real control plane, presenting whatever credential the test
 * chooses: none, a workload certificate, the operator's, or a forged one. The server is always
 * verified (the mesh CA and the control plane's SPIFFE ID), so a test talks to the control plane
 * it started and nothing else. Sidecars use their own client (@weft/sidecar's control/); this
 * one is for tests that play a sidecar, an operator or an attacker by hand.
 */
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadWeftServices, type DiscoveryRequest, type DiscoveryResponse, type OperatorConfig } from '@weft/api';
import { checkControlPlaneIdentity } from '@weft/pki';

export type ControlPlaneService = 'Identity' | 'Discovery' | 'Admin';

/** A client certificate (chain, leaf first) and its key. An `OperatorConfig` is one. */
export interface ClientCredential {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

/** What a client checks the server against: the mesh roots and the control plane's SPIFFE ID. */
export type ControlPlaneTrust = Pick<OperatorConfig, 'caPem' | 'controlPlaneSpiffeId'>;

/**
 * SNI must be a name, not an IP (RFC 6066), and the control plane's serving certificate carries
 * this DNS SAN next to its SPIFFE ID; the identity check itself is on the SPIFFE ID.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  'grpc.ssl_target_name_override': 'weft-control-plane',
  'grpc.default_authority': 'weft-control-plane',
});

/** The client configuration a control plane writes for weftctl (`<data-dir>/weftctl.json`). */
export function readOperatorConfig(path: string): OperatorConfig {
  return JSON.parse(fs.readFileSync(path, 'utf8')) as OperatorConfig;
}

/** A client of one of the control plane's services at `endpoint` (host:port), over TLS, with `credential` if given. */
export function controlPlaneClient(endpoint: string, trust: ControlPlaneTrust, service: ControlPlaneService, credential?: ClientCredential): grpc.Client {
  const credentials = grpc.credentials.createSsl(
    Buffer.from(trust.caPem),
    credential ? Buffer.from(credential.privateKeyPem) : null,
    credential ? Buffer.from(credential.certificatePem) : null,
    { checkServerIdentity: checkControlPlaneIdentity(trust.controlPlaneSpiffeId) },
  );
  return new (loadWeftServices()[service])(endpoint, credentials, CHANNEL_OPTIONS);
}

/** Opens Discovery.Stream on a client from `controlPlaneClient(..., 'Discovery', ...)`. */
export function openDiscoveryStream(discovery: grpc.Client): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> {
  return (discovery as unknown as { Stream(): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse> }).Stream();
}
