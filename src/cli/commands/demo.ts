/**
 * `citygate demo`: the whole data path on one machine, no hardware, no setup: an
 * embedded broker on 127.0.0.1, the simulated devices of boards/demo.yaml, the
 * status page, and a live one-line summary.
 */
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfigFile } from '../../config/load.js';
import { createLogger } from '../../core/log.js';
import { Gateway } from '../../runtime/gateway.js';
import { runUntilSignal } from '../../runtime/signals.js';
import { onStdoutClosed } from '../closed-stdout.js';

const DEMO_BOARD = fileURLToPath(new URL('../../../boards/demo.yaml', import.meta.url));

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run everything on this machine: simulated devices, embedded MQTT broker, status page')
    .option('--config <file>', 'a board with sim devices', DEMO_BOARD)
    .option('--port <port>', 'embedded broker port (default 18830, or a free one)')
    .option('--data-dir <dir>', 'where the demo buffer lives', join(tmpdir(), 'citygate-demo'))
    .option('--duration <seconds>', 'stop by itself after this long (default: run until Ctrl-C)')
    .option('--log-level <level>', 'log level (device state changes already show in the live line)', 'error')
    .action(async (opts: { config: string; port?: string; dataDir: string; duration?: string; logLevel: string }) => {
      // Loaded here, not at the top: the service (`run`) never pays for an embedded broker.
      const { EmbeddedBroker } = await import('../../demo/embedded-broker.js');
      const { freeLoopbackPort } = await import('../../demo/ports.js');
      const { startSummary } = await import('../../demo/summary.js');
      const log = createLogger({ level: opts.logLevel });
      const broker = new EmbeddedBroker('127.0.0.1', opts.port ? Number(opts.port) : await freeLoopbackPort(18830));
      await broker.start();
      const { config } = loadConfigFile(opts.config, { missingEnv: 'warn' });
      config.gateway.data_dir = opts.dataDir;
      config.uplink.url = broker.url;
      config.uplink.protocol_version = 4;
      if (config.health.http !== false) config.health.http = `127.0.0.1:${await freeLoopbackPort(8787)}`;
      const gateway = new Gateway(config, { log, drainMs: 2000 });
      await gateway.start();
      const out = process.stdout;
      out.write(
        [
          `citygate demo — gateway ${config.gateway.id}, ${gateway.devices.length} simulated devices`,
          `  broker        ${broker.url}  (embedded, MQTT 3.1.1)`,
          `  subscribe     mosquitto_sub -h 127.0.0.1 -p ${broker.port} -t '${gateway.topics.all}' -v`,
          config.health.http !== false ? `  status page   http://${config.health.http}/` : '',
          `  buffer        ${join(config.gateway.data_dir, 'buffer.db')}`,
          '  Ctrl-C stops it cleanly.',
          '',
        ]
          .filter(Boolean)
          .join('\n') + '\n',
      );
      const summary = startSummary(gateway, broker, out);
      const stop = async (): Promise<void> => {
        summary.stop();
        await gateway.stop();
        await broker.stop();
        out.write('demo stopped\n');
      };
      if (opts.duration) {
        setTimeout(() => process.kill(process.pid, 'SIGINT'), Number(opts.duration) * 1000).unref();
      }
      onStdoutClosed(() => process.kill(process.pid, 'SIGINT')); // `| head`: nobody reads any more
      process.exitCode = await runUntilSignal(stop, log, 15_000);
    });
}
