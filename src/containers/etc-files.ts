/**
 * The files Docker generates for every container and bind-mounts over /etc: hostname, hosts
 * and resolv.conf.
 */
import { readFileSync } from 'node:fs';

/** /etc/hostname. */
export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

/** /etc/hosts: Docker's default entries, the container's own address, then `--add-host`s. */
export function hostsFile(opts: { hostname: string; ip?: string; extraHosts: readonly string[]; hostNetwork: boolean }): string {
  const extra = opts.extraHosts.map((h) => {
    const i = h.indexOf(':');
    return `${h.slice(i + 1)}\t${h.slice(0, i)}\n`;
  });
  if (opts.hostNetwork) {
    let host = '';
    try {
      host = readFileSync('/etc/hosts', 'utf8');
    } catch {
      // no hosts file on the host: the defaults below
    }
    if (host) return (host.endsWith('\n') ? host : `${host}\n`) + extra.join('');
  }
  const lines = [
    '127.0.0.1\tlocalhost\n',
    '::1\tlocalhost ip6-localhost ip6-loopback\n',
    'fe00::0\tip6-localnet\n',
    'ff00::0\tip6-mcastprefix\n',
    'ff02::1\tip6-allnodes\n',
    'ff02::2\tip6-allrouters\n',
    ...extra,
  ];
  if (opts.ip) lines.push(`${opts.ip}\t${opts.hostname}\n`);
  return lines.join('');
}

/**
 * /etc/resolv.conf: the host's, with `--dns`, `--dns-search` and `--dns-option` replacing
 * its lines. Outside the host's network namespace, loopback name servers cannot be reached
 * and are dropped, as Docker does.
 */
export function resolvConf(opts: { dns: readonly string[]; search: readonly string[]; options: readonly string[]; hostNetwork: boolean }): string {
  let host = '';
  try {
    host = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    // none on the host
  }
  const lines = host.split('\n');
  const field = (k: string) => lines.filter((l) => l.trim().startsWith(`${k} `) || l.trim().startsWith(`${k}\t`)).map((l) => l.trim().split(/\s+/).slice(1).join(' '));
  let servers = opts.dns.length > 0 ? [...opts.dns] : field('nameserver');
  if (!opts.hostNetwork) servers = servers.filter((s) => !/^127\./.test(s) && s !== '::1');
  const search = opts.search.length > 0 ? opts.search : field('search');
  const options = opts.options.length > 0 ? opts.options : field('options');
  const out: string[] = [];
  if (search.length > 0) out.push(`search ${search.join(' ')}`);
  for (const s of servers) out.push(`nameserver ${s}`);
  if (options.length > 0) out.push(`options ${options.join(' ')}`);
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
