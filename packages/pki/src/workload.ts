/**
 * The workload's side of the PKI: its key pair, its CSR, certificate facts and chain checks, all
 * on node:crypto. The sidecar imports `@weft/pki/workload` so that it never loads node-forge or
 * the certificate authority, which only the control plane needs.
 */
export { generateKeyPair, type KeyPairPem, type KeyType } from './keys';
export { createCsr } from './csr-create';
export { certificateInfo, certificateFingerprint, chainRoot, normalizeSerial, splitPemChain, verifyChain, type CertificateInfo } from './certificate-info';
export { parseSubjectAltName, sanValues, spiffeIdsIn, type SanSet } from './san';
export { checkControlPlaneIdentity } from './control-plane-identity';
export { PkiError, type PkiErrorCode } from './errors';
export { presentedChain } from './peer-chain';
