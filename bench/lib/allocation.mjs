// Bytes allocated per request, measured inside a benchmark server (issue 15: allocation per
// request is a budget). V8 has no running total of allocated bytes, so the meter adds up what each
// garbage collection freed (v8.GCProfiler: used heap before and after every GC) plus the heap's
// growth over the measured part. The profiler's own work is a few heap-statistics reads per
// collection: about one per 300-1000 requests here.
import { createInterface } from 'node:readline';
import v8 from 'node:v8';

/**
 * Bytes allocated between `start()` and `stop()`: the growth of the used heap plus what the
 * collections in between freed.
 */
export function startAllocationCount() {
  const profiler = new v8.GCProfiler();
  const usedAtStart = v8.getHeapStatistics().used_heap_size;
  profiler.start();
  return () => {
    const { statistics } = profiler.stop();
    let freed = 0;
    for (const gc of statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    return { bytes: v8.getHeapStatistics().used_heap_size - usedAtStart + freed, collections: statistics.length };
  };
}

/**
 * The server side of the meter, on stdin: "MARK" starts counting bytes and requests, "REPORT"
 * prints `ALLOC {"bytes":...,"requests":...,"collections":...}` for the span since the mark.
 */
export function allocationMeter(server) {
  let requests = 0;
  let stopCount;
  server.on('request', () => {
    requests++;
  });
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'MARK') {
      requests = 0;
      stopCount = startAllocationCount();
    } else if (line === 'REPORT' && stopCount) {
      const counted = stopCount();
      stopCount = undefined;
      console.log(`ALLOC ${JSON.stringify({ ...counted, requests })}`);
    }
  });
}
