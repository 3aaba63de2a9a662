// Stable error codes for failures that are not resource validation issues (those are `Issue`s) and not
// analyzer findings (those are IST codes in analyze/messages.ts). Code matches on `code`, never on text.
// docs/errors.md lists every code; errors.test.ts keeps the two in sync.

export const ERROR_CODES = {
  ISM_FILE_READ: 'A file or folder named on the command line or in a watched folder cannot be read.',
  ISM_USAGE: 'A command was called with arguments it does not accept.',
  ISM_LISTEN: 'A server could not listen on its address or port (already in use, or not permitted).',
  ISM_CONNECT: 'The control plane or a proxy named on the command line cannot be reached, or answered with an error.',
  ISM_NOT_FOUND: 'A proxy or workload named on the command line does not exist, or the name matches several.',
  ISM_CA: "The CA cannot start: the certificates in the cacerts folder are missing, unreadable or do not form a valid signing chain.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class IsthmusError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IsthmusError';
    this.code = code;
  }
}
