// The one door to @peculiar/x509. That library resolves its algorithms through tsyringe, which needs a
// Reflect metadata polyfill loaded *before* it (see its README, "Reflect Polyfill Required"); ESM
// evaluates imports in order, so importing the polyfill first here, and @peculiar/x509 only through
// this file, keeps every CA module working whatever the entry point. It also points the library at
// Node's WebCrypto (`cryptoProvider.set`), so generators and `verify()` need no crypto argument.
// Those two global settings are the only side effects.

import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { cryptoProvider } from '@peculiar/x509';

cryptoProvider.set(webcrypto as unknown as Parameters<typeof cryptoProvider.set>[0]);

export {
  BasicConstraintsExtension,
  ExtendedKeyUsage,
  ExtendedKeyUsageExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  Pkcs10CertificateRequest,
  Pkcs10CertificateRequestGenerator,
  PublicKey,
  SubjectAlternativeNameExtension,
  SubjectKeyIdentifierExtension,
  AuthorityKeyIdentifierExtension,
  X509Certificate as PeculiarCertificate,
  X509CertificateGenerator,
} from '@peculiar/x509';
export type { Extension } from '@peculiar/x509';
