/**
 * The hand-written parts of the generated config reference (docs/config/*.md): what a
 * table of keys cannot say — where `${ENV}` and `!secret` resolve, what a remote config
 * may change, when plain MQTT is refused, how `citygate status` logs in. Kept beside the
 * schema so the pages regenerate whole; the lists in them come from the schema itself.
 */
import { configSchema } from './schema.js';
import { markedPaths } from './secret-fields.js';
import { DEFAULT_REMOTE, REMOTE_SECTIONS } from '../commands/schema.js';

const code = (xs: readonly string[]): string => xs.map((x) => `\`${x}\``).join(', ');

export function secretsProse(): string {
  return `## \`\${ENV}\` and \`!secret\`: only in credentials and addresses

\`\${NAME}\` reads an environment variable (\`\${NAME:-fallback}\` when it is unset; \`$\${\` is a
literal \`\${\`) and takes the type of its field; \`!secret name\` reads \`name\` from \`secrets.yaml\`
in the config file's own directory (whatever the working directory: systemd starts the
service in \`/\`), which must be mode 600.

They resolve **only** in the fields the schema marks as credentials or addresses:

- credentials: ${code(markedPaths(configSchema, 'credential'))};
- addresses: ${code(markedPaths(configSchema, 'address'))}.

Anywhere else a reference is a config error at its \`file:line:col\`, naming the key and the
fields above, and its value is never read: a point's \`unit:\` or \`value:\` would otherwise
publish the broker password in every data message. (An anchor under an \`x-\` key is not a
field either: write the reference where it is used.) A substituted value never appears in
an error message.`;
}

export function commandsProse(): string {
  return `## What a remote config may change

The \`config\` command replaces the whole file from the downlink; \`reload_config\` and SIGHUP
apply the file as it is on disk. A **remote config** is judged before anything is validated,
written or applied, by \`commands.config.remote_may_change\` of the config **in force** — the
policy in the new config is ignored for judging that same config, so no right widens itself:

\`\`\`yaml
commands:
  allow: [ping, health, config]
  config:
    remote_may_change: [devices, buses, health.interval]   # the default
\`\`\`

- It may list ${code(REMOTE_SECTIONS)}; the default is ${code(DEFAULT_REMOTE)}.
- Never remotely, whatever the list: the uplink's URLs, credentials and TLS, \`health.auth\`,
  \`commands.update.ca\`, and \`commands.config\` itself.
- Never remotely: a new or changed value holding \`\${ENV}\` or \`!secret\` — only the gateway's
  own file resolves them. Unchanged keys are not judged, so a remote config repeats
  \`password: \${MQTT_PASSWORD}\` of the file it replaces without trouble.
- Never remotely: a serial port outside \`/dev/\` (a device reading a regular file, such as
  \`secrets.yaml\`, would publish its lines as data).
- A config that changes anything else is refused whole, one line per key, nothing applied
  and nothing written, e.g.
  \`refused: commands.allow may not be changed remotely (commands.config.remote_may_change: [devices, buses, health.interval])\`.
- \`reload_config\` and SIGHUP are judged the same way when the config file (or its
  directory) is writable by the gateway's own user — as it must be for the \`config\` command —
  because then a remote config could have written it: the file before the change bounds what
  the new one may change. A file only root can write (the installed default) is the local
  administrator's: reloads of it are not judged.
- To change what the policy keeps local: edit the file as root and restart
  (\`systemctl restart citygate\`); a restart reads the file as the administrator's.`;
}

export function uplinkProse(): string {
  return `## Plain MQTT beyond loopback

\`mqtt://\` and \`ws://\` send city data and the broker password in clear text. To a broker on
loopback (\`127.x\`, \`localhost\`, \`[::1]\`) that is fine; to any other host it is a config
error in \`validate\` and in \`run\` alike, at the URL's \`file:line:col\`, unless the file says
\`allow_insecure: true\` (a closed network you trust). Use \`mqtts://\` or \`wss://\` instead.
The credentials ${code(markedPaths(configSchema, 'credential').filter((p) => p.startsWith('uplink.')))} take \`\${ENV}\` or
\`!secret\` (see [README.md](README.md#env-and-secret-only-in-credentials-and-addresses)).`;
}

export function healthProse(): string {
  return `## Reading a page behind \`health.auth\`

\`citygate status\` logs in with, in this order: \`--token-file FILE\` or the
\`CITYGATE_STATUS_TOKEN\` variable (a bearer token); \`--user NAME\` with the password in
\`CITYGATE_STATUS_PASSWORD\` or \`--password-file FILE\` (basic auth); else the config's own
\`health.auth\` when the config is readable (\`sudo citygate status\`). Secrets are never taken
from the command line, which every user of the machine can read. A page that answers 401 or
403 gets "needs a login (health.auth)" and these ways to give one — not "no gateway
answering", which means nothing listens at the address.`;
}
