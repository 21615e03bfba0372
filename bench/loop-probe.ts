// Preloaded into the portal's own process by bench/presence.ts (`node --import`), so that nothing of
// the bench runs there: between the bench's "start" and "stop" messages on the IPC channel it
// measures the event loop's longest stall and the collector's pauses, and answers "stop" with them.
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export interface LoopReport {
  loopMaxMs: number;
  /** The longest young-generation collection (scavenge), and the longest of the others. */
  youngGcMaxMs: number;
  otherGcMaxMs: number;
  gcCount: number;
  heapUsedMb: number;
}

if (process.send) {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let gc = { youngMax: 0, otherMax: 0, count: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      gc.count++;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.youngMax = Math.max(gc.youngMax, entry.duration);
      else gc.otherMax = Math.max(gc.otherMax, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  process.on('message', (message) => {
    if (message === 'start') {
      gc = { youngMax: 0, otherMax: 0, count: 0 };
      loop.reset();
      loop.enable();
    } else if (message === 'stop') {
      loop.disable();
      const report: LoopReport = {
        loopMaxMs: loop.max / 1e6,
        youngGcMaxMs: gc.youngMax,
        otherGcMaxMs: gc.otherMax,
        gcCount: gc.count,
        heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
      };
      process.send!(report);
    }
  });
  process.channel?.unref(); // the portal's own handles decide when it exits, not the bench's channel
}
