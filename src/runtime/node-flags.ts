/**
 * V8 settings the gateway runs with. Heap limits (bench: RSS at peak ≤ 128 MB): without
 * them V8 sizes its heaps for a desktop and collects late, so a burst leaves RSS high.
 * `--no-turbofan`: no top-tier optimising compiler (the baseline compiler stays, and
 * Maglev on Node 22+). TurboFan's code and its compiler's working memory cost 11–14 MB
 * of RSS at idle, which the 75 MB idle budget cannot take; at saturation (100,000
 * readings/s offered) it would save 15–35 % of the CPU per reading, at the rates of a
 * pole far less. Every alternative measured (bigger semi-spaces, `--no-opt`,
 * `--max-lazy`, `--single-threaded-gc`) and the figures: docs/performance.md#v8-flags
 * (`BENCH_SAT_FLAGS=1 BENCH_ONLY=saturation npm run bench`).
 * The same flags appear in bin/citygate.js (shebang), deploy/citygate.service and the
 * benchmark's citygate workers; a unit test keeps them in step.
 */
export const SERVICE_NODE_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=2', '--no-turbofan'] as const;
