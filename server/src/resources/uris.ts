import type { Resource, ResourceTemplateType } from '@modelcontextprotocol/server';

/**
 * The resource URIs this server answers. A database name cannot contain `/`; a collection name can, so
 * both are percent-encoded when written and decoded when read (RFC 6570 simple expansion).
 */
export const CONFIG_URI = 'config://effective';

export const COLLECTION_VIEWS = {
  schema: {
    tool: 'collection-schema',
    title: 'Inferred schema',
    description: 'Field paths and BSON types inferred from a sample of the collection (no document values).',
  },
  indexes: { tool: 'collection-indexes', title: 'Indexes', description: 'The indexes of the collection: name, key, unique.' },
} as const;
export type CollectionView = keyof typeof COLLECTION_VIEWS;

export type ResourceRef = { kind: 'config' } | { kind: 'collection'; view: CollectionView; database: string; collection: string };

export const LISTED_RESOURCES: Resource[] = [
  {
    uri: CONFIG_URI,
    name: 'effective-configuration',
    title: 'Effective configuration',
    description: 'The configuration this server runs with, secrets redacted.',
    mimeType: 'application/json',
  },
];

export const RESOURCE_TEMPLATES: ResourceTemplateType[] = (Object.keys(COLLECTION_VIEWS) as CollectionView[]).map((view) => ({
  uriTemplate: `mongodb://{database}/{collection}/${view}`,
  name: `collection-${view}`,
  title: COLLECTION_VIEWS[view].title,
  description: `${COLLECTION_VIEWS[view].description} Reserved namespaces (admin, local, config, system.*) are not served.`,
  mimeType: 'text/plain',
}));

/** The templates whose view tool is among `tools` (the caller's served tools: a view runs that tool). */
export function templatesFor(tools: ReadonlyArray<{ name: string }>): ResourceTemplateType[] {
  const names = new Set(tools.map((t) => t.name));
  return RESOURCE_TEMPLATES.filter((t) => names.has(COLLECTION_VIEWS[t.name.replace('collection-', '') as CollectionView].tool));
}

const COLLECTION_URI = /^mongodb:\/\/([^/]+)\/(.+)\/(schema|indexes)$/;

/** What a URI names, or null when it is none of ours (or not decodable). Names are not checked here. */
export function parseResourceUri(uri: string): ResourceRef | null {
  if (uri === CONFIG_URI) return { kind: 'config' };
  const m = COLLECTION_URI.exec(uri);
  if (!m) return null;
  try {
    return { kind: 'collection', view: m[3] as CollectionView, database: decodeURIComponent(m[1]!), collection: decodeURIComponent(m[2]!) };
  } catch {
    return null; // malformed percent-encoding
  }
}
