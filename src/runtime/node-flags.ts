/**
 * V8 heap limits the gateway runs with (bench: RSS at peak ≤ 128 MB). Without them
 * V8 sizes its heaps for a desktop and collects late, so a burst leaves RSS high.
 * The same flags appear in bin/citygate.js (shebang), deploy/citygate.service and the
 * benchmark's citygate workers; a unit test keeps them in step.
 */
export const SERVICE_NODE_FLAGS = ['--max-old-space-size=96', '--max-semi-space-size=2'] as const;
