/** Shared set-up of the OpenTelemetry tests: the real SDK (metrics and traces), in memory. */
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** A reader collected on demand (no timer): cumulative sums, last values. */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }

  protected override async onForceFlush(): Promise<void> {}

  protected override async onShutdown(): Promise<void> {}
}

/** A meter provider of the SDK with a reader; `collect()` returns every metric by name. */
export function memoryMeter(): { meterProvider: MeterProvider; collect: () => Promise<Map<string, MetricData>> } {
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  return {
    meterProvider,
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new Error(`collection failed: ${String(errors[0])}`);
      const found = new Map<string, MetricData>();
      for (const scope of resourceMetrics.scopeMetrics) {
        expect(scope.scope.name).toBe('express-m2m');
        for (const metric of scope.metrics) found.set(metric.descriptor.name, metric);
      }
      return found;
    },
  };
}

/** The data points of a metric as `{ attributes, value }`, sorted for stable comparisons. */
export function points(metric: MetricData | undefined): Array<{ attributes: Record<string, unknown>; value: unknown }> {
  if (metric === undefined) return [];
  return (metric.dataPoints as Array<DataPoint<unknown>>)
    .map((point) => ({ attributes: Object.fromEntries(Object.entries(point.attributes).sort(([a], [b]) => a.localeCompare(b))), value: point.value }))
    .sort((a, b) => JSON.stringify(a.attributes).localeCompare(JSON.stringify(b.attributes)));
}

/** A tracer provider of the SDK exporting to memory. */
export function memoryTracer(): { tracerProvider: BasicTracerProvider; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { tracerProvider, exporter };
}
