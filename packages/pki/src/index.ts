export { generateKeyPair, type KeyPairPem } from './keys';
export { createCsr, parseCsr, type CsrInfo } from './csr';
export { CertificateAuthority, type IssueOptions, type IssuedCertificate, type CaMaterial, type SubordinateOptions } from './certificate-authority';
export { certificateInfo, certificateFingerprint, chainRoot, normalizeSerial, splitPemChain, verifyChain, type CertificateInfo } from './certificate-info';
export { PkiError } from './errors';
export { signingProblem } from './ca-checks';
export { presentedChain } from './peer-chain';
