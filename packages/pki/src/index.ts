// Everything a workload uses (curated, with explicit names, in workload.ts), then the CA's side.
export * from './workload';
export { parseCsr, type CsrInfo } from './csr-parse';
export { CertificateAuthority, type IssueOptions, type IssueParameters, type IssuedCertificate, type CaMaterial, type SubordinateOptions } from './certificate-authority';
export { signingProblem } from './ca-checks';
export { keyDescription, keyProblem } from './key-policy';
export { subjectKeyFromPem, type SubjectKey } from './subject-key';
