import type { ExportResult } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { AdaptiveSampler } from "./adaptive-sampler.js";

/**
 * Times the synchronous part of each export (serialising the batch and starting the request), which runs on
 * the service's event loop between requests, and reports it to the sampler as background work.
 */
export class MeteredExporter implements SpanExporter {
  constructor(
    private readonly inner: SpanExporter,
    private readonly sampler: AdaptiveSampler,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const t = performance.now();
    try {
      this.inner.export(spans, resultCallback);
    } finally {
      this.sampler.recordBackground((performance.now() - t) * 1000);
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
