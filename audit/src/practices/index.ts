/** Every practice, most valuable first: the order of the report. */
import type { Practice } from '../practice.ts';
import { certificate, hsts, plainHttpRefused, tlsVersion } from './transport.ts';
import { authRequired, authServerMetadata, resourceMetadata } from './discovery.ts';
import { algNone, basicCredentials, expiredToken, idToken, keyConfusion, otherAudience, tokenInQuery, validTokenAccepted } from './tokens.ts';
import { bodyLimit, connectionLimit, foreignHost, foreignOrigin, rateLimit, sessionBinding } from './requests.ts';
import { connectTools, readOnlyTools, serverSideJs, systemNamespaces, writeRouteScope, writeStages } from './tools.ts';
import { errorHygiene } from './hygiene.ts';

export const PRACTICES: readonly Practice[] = [
  authRequired,
  tlsVersion,
  certificate,
  plainHttpRefused,
  hsts,
  foreignHost,
  foreignOrigin,
  resourceMetadata,
  authServerMetadata,
  validTokenAccepted,
  algNone,
  keyConfusion,
  tokenInQuery,
  basicCredentials,
  idToken,
  expiredToken,
  otherAudience,
  sessionBinding,
  readOnlyTools,
  writeRouteScope,
  connectTools,
  serverSideJs,
  systemNamespaces,
  writeStages,
  bodyLimit,
  rateLimit,
  connectionLimit,
  errorHygiene,
];
