export { ProcessGroup, ManagedProcess, describeExit, shebangNodeArgs, type SpawnOptions, type LogLine, type ExitInfo } from './process-group';
export { runNode, runProgram, type RunResult, type RunOptions } from './run-node';
export { createNetnsPeer, netnsUnavailable, type NetnsPeer } from './netns';
export { liveChildCount } from './child-registry';
export { findFreePort, findFreePorts } from './free-port';
export { startEtcd, type EtcdCluster, type EtcdMember, type StartEtcdOptions } from './etcd';
export { repoRoot, programPath, PROGRAMS } from './paths';
export {
  Mesh,
  weftctl,
  type ControlPlane,
  type Sidecar,
  type SidecarOptions,
  type App,
  type AppOptions,
} from './mesh';
export { startOtlpReceiver, type OtlpReceiver, type OtlpReceiverTls } from './otlp-receiver';
export { countSpans, startOtlpSink, type OtlpSink } from './otlp-sink';
export { collectSpans, SPAN_KIND, STATUS_CODE, type CollectedSpan, type SpanKind, type AttributeValue } from './otlp-spans';
export { renderTraceTree, type TreeSpan, type TraceTreeOptions } from './trace-tree';
export { parsePrometheusText, sumSamples, type Sample } from './prometheus';
export { httpRequest, httpGetText, type HttpResult, type HttpRequestOptions } from './http-client';
export { measureModuleLoad, packageOf, type ModuleLoad } from './module-load';
export { startPrometheus, promtoolCheckMetrics, type PrometheusServer, type PrometheusOptions, type PromSample } from './prometheus-server';
export { ConsulTestServer, type ConsulTestServerOptions, type CheckStatus } from './consul-test-server';
export { waitFor, type NotYet } from './wait-for';
export { quietLogger } from './quiet-logger';
export { recordingLogger, type LoggedLine } from './recording-logger';
export {
  controlPlaneClient,
  openDiscoveryStream,
  readOperatorConfig,
  type ClientCredential,
  type ControlPlaneService,
  type ControlPlaneTrust,
} from './control-plane-client';
export {
  startGrpcEcho,
  grpcEchoClient,
  grpcEchoUnary,
  grpcEchoSlow,
  GRPC_ECHO_SERVICE,
  type EchoMsg,
  type GrpcEchoClient,
  type GrpcEchoLog,
  type GrpcEchoServer,
} from './grpc-echo';
