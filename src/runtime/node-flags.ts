/**
 * V8 settings the gateway runs with. Heap limits (bench: RSS at peak ≤ 128 MB): without
 * them V8 sizes its heaps for a desktop and collects late, so a burst leaves RSS high.
 * `--no-turbofan`: no top-tier optimising compiler (the baseline compiler stays, and
 * Maglev on Node 22+). A gateway is I/O-bound at tens to hundreds of readings a second;
 * TurboFan's code and its compiler's working memory cost ~10 MB of RSS at idle, while
 * the CPU it saves at 10,000 readings/s is within the noise (1.00–1.07×) (measured: `npm run bench`, installed
 * section; docs/architecture.md#memory).
 * The same flags appear in bin/citygate.js (shebang), deploy/citygate.service and the
 * benchmark's citygate workers; a unit test keeps them in step.
 */
export const SERVICE_NODE_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=2', '--no-turbofan'] as const;
