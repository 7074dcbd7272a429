// compose.yaml and topology 4 describe the same deployment: the same services running the same roles,
// wired to the same services and engines, with TLS where the other has it, and a mail catcher for the reports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { topology } from './topologies.ts';

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
}
const compose = parse(readFileSync('compose.yaml', 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const apps = Object.entries(compose.services).filter(([, s]) => s.environment?.MODULES);

/** What a variable's value names: another service or engine (`http://events-storage` → `http events-storage`), else the value. */
const target = (value: string) => {
  const url = /^(\w+):\/\/(?:[^@/]*@)?([\w-]+)/.exec(value);
  return url ? `${url[1]} ${url[2]}` : value;
};
/** The variables that shape the topology: role URLs, engines and stores, not ports, secrets or log levels. */
const WIRING = /_URL$|_STORE$|^MODULES$|_REPORTS_DIR$/;
const wiring = (env: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(env)
      .filter(([k]) => WIRING.test(k) && !['DATABASE_URL', 'EVENT_BUS_URL', 'SMTP_URL'].includes(k))
      .map(([k, v]) => [k, target(String(v))]),
  );

describe('compose.yaml and topology 4', () => {
  const t4 = topology(4);

  it('have the same app services', () => {
    assert.deepEqual(apps.map(([name]) => name).sort(), t4.services.map((s) => s.name).sort());
  });

  it('run the same roles in each service, wired to the same services and engines, with TLS in the same places', () => {
    for (const s of t4.services) {
      const env = compose.services[s.name].environment!;
      assert.deepEqual(wiring(env), wiring({ MODULES: s.modules, ...s.env }), s.name);
      assert.equal(Boolean(env.GRPC_TLS_CERT_FILE), Boolean(s.tls), `${s.name}: TLS`);
      assert.equal(s.replicas, 1, `${s.name}: compose runs one container of each service`);
    }
  });

  it('sends report emails to a mail catcher with a web page (Mailpit)', () => {
    assert.match(compose.services.mailpit?.image ?? '', /^axllent\/mailpit:/);
    for (const [name, s] of apps.filter(([, s]) => /benchmark\.notifier/.test(s.environment!.MODULES)))
      assert.equal(target(s.environment!.SMTP_URL ?? ''), 'smtp mailpit', `${name}: SMTP_URL`);
  });
});
