import type { z } from 'zod';
import { authorizationPolicySpec, type AuthorizationPolicySpec } from './authorization-policy';
import { meshConfigSpec, type MeshConfigSpec } from './mesh-config';
import { routeSpec, type RouteSpec } from './route';
import { servicePolicySpec, type ServicePolicySpec } from './service-policy';

export interface ResourceMetadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels?: Readonly<Record<string, string>>;
}

interface ResourceOf<K extends string, S> {
  readonly apiVersion: string;
  readonly kind: K;
  readonly metadata: ResourceMetadata;
  readonly spec: S;
}

export type MeshConfig = ResourceOf<'MeshConfig', MeshConfigSpec>;
export type Route = ResourceOf<'Route', RouteSpec>;
export type ServicePolicy = ResourceOf<'ServicePolicy', ServicePolicySpec>;
export type AuthorizationPolicy = ResourceOf<'AuthorizationPolicy', AuthorizationPolicySpec>;
export type PolicyResource = MeshConfig | Route | ServicePolicy | AuthorizationPolicy;
export type PolicyKind = PolicyResource['kind'];

export interface KindInfo {
  readonly kind: PolicyKind;
  /** What `weftctl get` calls it, and what else it accepts. */
  readonly plural: string;
  readonly aliases: readonly string[];
  /** MeshConfig is mesh-wide; every other kind lives in a namespace. */
  readonly namespaced: boolean;
  readonly spec: z.ZodType;
}

export const KINDS: Readonly<Record<PolicyKind, KindInfo>> = Object.freeze({
  MeshConfig: { kind: 'MeshConfig', plural: 'meshconfig', aliases: ['meshconfigs', 'mc'], namespaced: false, spec: meshConfigSpec },
  Route: { kind: 'Route', plural: 'routes', aliases: ['route', 'rt'], namespaced: true, spec: routeSpec },
  ServicePolicy: {
    kind: 'ServicePolicy',
    plural: 'servicepolicies',
    aliases: ['servicepolicy', 'sp'],
    namespaced: true,
    spec: servicePolicySpec,
  },
  AuthorizationPolicy: {
    kind: 'AuthorizationPolicy',
    plural: 'authorizationpolicies',
    aliases: ['authorizationpolicy', 'authz', 'ap'],
    namespaced: true,
    spec: authorizationPolicySpec,
  },
});

export function isPolicyKind(kind: unknown): kind is PolicyKind {
  return typeof kind === 'string' && Object.prototype.hasOwnProperty.call(KINDS, kind);
}

/** Resolves what an operator typed (`routes`, `Route`, `rt`) to a kind, case-insensitively. */
export function resolveKind(text: string): PolicyKind | undefined {
  const t = text.toLowerCase();
  for (const info of Object.values(KINDS)) {
    if (info.kind.toLowerCase() === t || info.plural === t || info.aliases.includes(t)) return info.kind;
  }
  return undefined;
}

/** The store key of a resource: `Route/default/reviews`, `MeshConfig//default`. */
export function resourceKey(kind: PolicyKind, namespace: string, name: string): string {
  return `${kind}/${KINDS[kind].namespaced ? namespace : ''}/${name}`;
}
