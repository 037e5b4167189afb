import type { Registry } from './metrics-registry';

/**
 * The standard process metrics every Prometheus client library exports (client_golang's names,
 * so existing dashboards and alerts work): CPU, resident memory and start time, plus the Node.js
 * heap. Read when /metrics is scraped, so they cost nothing between scrapes.
 */
export function countProcess(registry: Registry): void {
  const cpu = registry.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.').bind({});
  const rss = registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.');
  const start = registry.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.');
  const heapUsed = registry.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.');
  const heapTotal = registry.gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved, in bytes.');
  const startedAt = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  registry.beforeRender(() => {
    const usage = process.cpuUsage();
    cpu.value = (usage.user + usage.system) / 1e6;
    const memory = process.memoryUsage();
    rss.set({}, memory.rss);
    start.set({}, startedAt);
    heapUsed.set({}, memory.heapUsed);
    heapTotal.set({}, memory.heapTotal);
  });
}
