export { compileAuthorization, AuthzCompileError, type CompileAuthorizationOptions } from './compile-authorization';
export { decide } from './decide';
export { normalizePath, type NormalizedPath } from './normalize-path';
export { describeAuthorization, type AuthzTableView, type AuthzPolicyView } from './describe';
export type { AuthzAction, AuthzCause, AuthzDecision, AuthzRequest, AuthzTable, CompiledAuthzPolicy, CompiledAuthzRule, CompiledOperation } from './types';
