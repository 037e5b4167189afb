import { createPrivateKey, X509Certificate } from 'node:crypto';
import { certificateFingerprint, certificateInfo, chainRoot, createCsr, generateKeyPair, normalizeSerial, splitPemChain, verifyChain } from '@weft/pki/workload';
import type { SignResponse } from '@weft/api';
import { formatHostPort, type HostPort } from './address';
import { ControlError } from './errors';
import { callSign } from './grpc-calls';
import type { IdentityMaterial } from './identity-material';
import type { JoinToken } from './join-token';
import { CONTROL_CHANNEL_OPTIONS, controlPlaneCredentials } from './tls-credentials';

export interface SignParams {
  readonly address: HostPort;
  readonly trustDomain: string;
  readonly spiffeId: string;
  /** Roots to verify the control plane with: the pinned root at boot, the trust bundle later. */
  readonly rootsPem: readonly string[];
  /** First contact: the join token authenticates us. */
  readonly token?: JoinToken;
  /** Renewal: the current certificate authenticates us (mTLS) and no token is sent. */
  readonly current?: IdentityMaterial;
  /** This sidecar process, so the control plane can revoke everything it was issued. */
  readonly proxyId?: string;
  readonly timeoutMs?: number;
}

/**
 * Gets a certificate for `spiffeId`: a fresh key pair (it never leaves this process), a CSR for
 * exactly that identity, Identity.Sign, and checks on the answer before anyone uses it.
 */
export async function signIdentity(params: SignParams): Promise<IdentityMaterial> {
  const keys = generateKeyPair();
  const csrPem = createCsr(params.spiffeId, keys.privateKeyPem);
  const credentials = controlPlaneCredentials(params.trustDomain, params.rootsPem, params.current);
  const target = formatHostPort(params.address);
  const response = await callSign(target, credentials, CONTROL_CHANNEL_OPTIONS, { csrPem, token: params.token?.reveal() ?? '', proxyId: params.proxyId ?? '' }, params.timeoutMs ?? 10_000);
  return toIdentityMaterial(response, keys.privateKeyPem, params, Date.now());
}

/**
 * Checks that what came back is a certificate for us, for our key, chaining to the bundle it came
 * with. A control plane bug here would otherwise surface later as failed handshakes everywhere.
 */
function toIdentityMaterial(response: SignResponse, privateKeyPem: string, params: SignParams, receivedAtMs: number): IdentityMaterial {
  const chain = response.certificateChainPem.flatMap(splitPemChain);
  const leafPem = chain[0];
  if (!leafPem) throw bad('Identity.Sign returned no certificate');
  const leaf = certificateInfo(leafPem);
  if (!leaf.uris.includes(params.spiffeId)) {
    throw bad(`Identity.Sign returned a certificate for ${leaf.uris.join(', ') || 'no SPIFFE ID'}, not ${params.spiffeId}`);
  }
  if (!new X509Certificate(leafPem).checkPrivateKey(createPrivateKey(privateKeyPem))) {
    throw bad('Identity.Sign returned a certificate for a key other than the one in our CSR');
  }
  const bundle = response.trustBundlePem.flatMap(splitPemChain);
  const trustBundlePem = bundle.length > 0 ? bundle : [...params.rootsPem];
  const verdict = verifyChain(chain, trustBundlePem);
  if (!verdict.ok) throw bad(`the certificate from Identity.Sign does not verify against the trust bundle: ${verdict.reason}`);
  const root = chainRoot(chain, trustBundlePem) as string;
  return Object.freeze({
    spiffeId: params.spiffeId,
    certificateChainPem: Object.freeze(chain),
    privateKeyPem,
    trustBundlePem: Object.freeze(trustBundlePem),
    expiresAtMs: leaf.notAfter.getTime(),
    // When we received it, not notBefore: the CA back-dates notBefore for clock skew, and the
    // renewal point (half the lifetime) must be measured from when we got the certificate.
    issuedAtMs: Math.min(receivedAtMs, leaf.notAfter.getTime()),
    rootFingerprint: certificateFingerprint(root),
    serialNumber: normalizeSerial(leaf.serialNumber),
  });
}

function bad(message: string): ControlError {
  return new ControlError('WEFT_ERR_BAD_ISSUED_CERTIFICATE', `${message} (control plane bug?)`);
}
