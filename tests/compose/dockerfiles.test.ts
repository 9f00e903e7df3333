/**
 * The images we build: multi-stage, production dependencies only, non-root, with a health check, and based
 * on exactly the images pinned in versions.env.
 */
import { describe, expect, it } from 'vitest';
import { loadCompose, loadVersions, parseDockerfile, rawText } from './compose-file.ts';

const versions = loadVersions();
const NODE_DOCKERFILES = ['server/Dockerfile', 'nginx/verifier/Dockerfile'];

describe.each(NODE_DOCKERFILES)('%s', (file) => {
  const df = parseDockerfile(file);

  it('builds in two stages and bases both on NODE_IMAGE from versions.env', () => {
    expect(df.froms.length, 'FROM count').toBeGreaterThanOrEqual(2);
    for (const from of df.froms) expect(from, 'FROM').toBe(versions.NODE_IMAGE);
  });

  it('installs exactly the locked production dependencies of its workspace (npm ci --omit=dev --workspace)', () => {
    const install = df.lines.filter((l) => /^RUN\b.*\bnpm\b/.test(l));
    expect(install.length).toBe(1);
    expect(install[0]).toMatch(/\bnpm ci\b/);
    expect(install[0]).toMatch(/--omit=dev\b/);
    expect(install[0]).toMatch(/--workspace \S+/);
    expect(install[0]).toMatch(/--ignore-scripts\b/);
  });

  it('runs the final stage as the unprivileged node user', () => {
    const last = df.lines.slice(df.lines.findLastIndex((l) => /^FROM\b/.test(l)));
    expect(last.filter((l) => /^USER\b/.test(l)).at(-1)).toBe('USER node');
  });

  it('copies only node_modules (from the build stage), sources and the Cedar policies into the final stage; no npm, no build tools run there', () => {
    const last = df.lines.slice(df.lines.findLastIndex((l) => /^FROM\b/.test(l)));
    expect(last.filter((l) => /^RUN\b/.test(l))).toEqual([]);
    expect(last.some((l) => /^COPY --from=\S+ \/app\/node_modules /.test(l))).toBe(true);
    // The registration reaper's three modules are named one by one (not scripts/dcr/*.ts: start.ts is the native runner's).
    const sources = /(package\.json|\/src |\*\.ts |\*\.cedar )|^COPY (scripts\/dcr\/\w+\.ts )+server\/dcr\/$/;
    expect(last.filter((l) => /^COPY\b/.test(l) && !/--from=/.test(l)).every((l) => sources.test(l))).toBe(true);
  });

  it('declares a HEALTHCHECK on /healthz and starts src/main.ts with Node 24 type stripping', () => {
    expect(df.lines.some((l) => /^HEALTHCHECK\b.*\/healthz/.test(l))).toBe(true);
    expect(df.lines.at(-1)).toBe('CMD ["node", "src/main.ts"]');
  });
});

describe('keycloak/Dockerfile', () => {
  const df = parseDockerfile('keycloak/Dockerfile');

  it('builds keycloak.conf in (kc.sh build) in a first stage and bases both stages on KEYCLOAK_IMAGE', () => {
    expect(df.froms).toEqual([versions.KEYCLOAK_IMAGE, versions.KEYCLOAK_IMAGE]);
    expect(df.lines).toContain('RUN /opt/keycloak/bin/kc.sh build');
    expect(df.lines).toContain('COPY --from=builder /opt/keycloak/ /opt/keycloak/');
  });

  it('runs as the unprivileged keycloak user and starts --optimized', () => {
    expect(df.lines).toContain('USER 1000');
    expect(df.lines.at(-1)).toMatch(/"--optimized"/);
    expect(JSON.stringify(loadCompose().services.keycloak?.entrypoint)).toMatch(/start --optimized --import-realm/);
  });
});

describe('.dockerignore', () => {
  it('keeps generated secrets, keys and host node_modules out of every build context', () => {
    const lines = rawText('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const must of ['.stack', '**/node_modules', '.git', 'secrets']) expect(lines, must).toContain(must);
  });
});
