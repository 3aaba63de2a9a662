// The verification outcomes of envoy.filters.http.jwt_authn, numbered and worded as jwt_verify_lib's
// Status enum and getStatusString (google/jwt_verify_lib jwt_verify_lib/status.h, src/status.cc): the text
// is the 401/403 body and, with whitespace as '_', the response code details. Only the statuses this
// implementation can produce are listed; the numbers are the enum's (failed_status_in_metadata.code).

export enum JwtStatus {
  Ok = 0,
  JwtMissed = 1,
  JwtNotYetValid = 2,
  JwtExpired = 3,
  JwtBadFormat = 4,
  JwtHeaderParseErrorBadBase64 = 5,
  JwtHeaderParseErrorBadJson = 6,
  JwtHeaderBadAlg = 7,
  JwtHeaderNotImplementedAlg = 8,
  JwtHeaderBadKid = 9,
  JwtPayloadParseErrorBadBase64 = 10,
  JwtPayloadParseErrorBadJson = 11,
  JwtPayloadParseErrorIssNotString = 12,
  JwtPayloadParseErrorSubNotString = 13,
  JwtPayloadParseErrorIatNotInteger = 14,
  JwtPayloadParseErrorIatOutOfRange = 15,
  JwtPayloadParseErrorNbfNotInteger = 16,
  JwtPayloadParseErrorNbfOutOfRange = 17,
  JwtPayloadParseErrorExpNotInteger = 18,
  JwtPayloadParseErrorExpOutOfRange = 19,
  JwtPayloadParseErrorJtiNotString = 20,
  JwtPayloadParseErrorAudNotString = 21,
  JwtSignatureParseErrorBadBase64 = 22,
  JwtEd25519SignatureWrongLength = 23,
  JwtUnknownIssuer = 24,
  JwtAudienceNotAllowed = 25,
  JwtVerificationFail = 26,
  JwtMultipleTokens = 27,
  JwksNoValidKeys = 31,
  JwksKidAlgMismatch = 32,
  JwksFetchFail = 40,
}

const TEXT: Readonly<Record<JwtStatus, string>> = {
  [JwtStatus.Ok]: 'OK',
  [JwtStatus.JwtMissed]: 'Jwt is missing',
  [JwtStatus.JwtNotYetValid]: 'Jwt not yet valid',
  [JwtStatus.JwtExpired]: 'Jwt is expired',
  [JwtStatus.JwtBadFormat]: 'Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections',
  [JwtStatus.JwtHeaderParseErrorBadBase64]: 'Jwt header is an invalid Base64url encoded',
  [JwtStatus.JwtHeaderParseErrorBadJson]: 'Jwt header is an invalid JSON',
  [JwtStatus.JwtHeaderBadAlg]: 'Jwt header [alg] field is required and must be a string',
  [JwtStatus.JwtHeaderNotImplementedAlg]: 'Jwt header [alg] is not supported',
  [JwtStatus.JwtHeaderBadKid]: 'Jwt header [kid] field is not a string',
  [JwtStatus.JwtPayloadParseErrorBadBase64]: 'Jwt payload is an invalid Base64url encoded',
  [JwtStatus.JwtPayloadParseErrorBadJson]: 'Jwt payload is an invalid JSON',
  [JwtStatus.JwtPayloadParseErrorIssNotString]: 'Jwt payload [iss] field is not a string',
  [JwtStatus.JwtPayloadParseErrorSubNotString]: 'Jwt payload [sub] field is not a string',
  [JwtStatus.JwtPayloadParseErrorIatNotInteger]: 'Jwt payload [iat] field is not an integer',
  [JwtStatus.JwtPayloadParseErrorIatOutOfRange]: 'Jwt payload [iat] field is not a positive 64 bit integer',
  [JwtStatus.JwtPayloadParseErrorNbfNotInteger]: 'Jwt payload [nbf] field is not an integer',
  [JwtStatus.JwtPayloadParseErrorNbfOutOfRange]: 'Jwt payload [nbf] field is not a positive 64 bit integer',
  [JwtStatus.JwtPayloadParseErrorExpNotInteger]: 'Jwt payload [exp] field is not an integer',
  [JwtStatus.JwtPayloadParseErrorExpOutOfRange]: 'Jwt payload [exp] field is not a positive 64 bit integer',
  [JwtStatus.JwtPayloadParseErrorJtiNotString]: 'Jwt payload [jti] field is not a string',
  [JwtStatus.JwtPayloadParseErrorAudNotString]: 'Jwt payload [aud] field is not a string or string list',
  [JwtStatus.JwtSignatureParseErrorBadBase64]: 'Jwt signature is an invalid Base64url encoded',
  [JwtStatus.JwtEd25519SignatureWrongLength]: 'Jwt ED25519 signature is wrong length',
  [JwtStatus.JwtUnknownIssuer]: 'Jwt issuer is not configured',
  [JwtStatus.JwtAudienceNotAllowed]: 'Audiences in Jwt are not allowed',
  [JwtStatus.JwtVerificationFail]: 'Jwt verification fails',
  [JwtStatus.JwtMultipleTokens]: 'Found multiple Jwt tokens',
  [JwtStatus.JwksNoValidKeys]: "Jwks doesn't have any valid public key",
  [JwtStatus.JwksKidAlgMismatch]: "Jwks doesn't have key to match kid or alg from Jwt",
  [JwtStatus.JwksFetchFail]: 'Jwks remote fetch is failed',
};

/** jwt_verify_lib's getStatusString. */
export function jwtStatusText(s: JwtStatus): string {
  return TEXT[s];
}

/** Envoy's Filter::onComplete: 403 for a disallowed audience, 401 for everything else. */
export function jwtStatusHttpCode(s: JwtStatus): number {
  return s === JwtStatus.JwtAudienceNotAllowed ? 403 : 401;
}

/** `jwt_authn_access_denied{Jwt_is_expired}` (filter.cc generateRcDetails: whitespace becomes '_'). */
export function jwtDeniedDetails(s: JwtStatus): string {
  return `jwt_authn_access_denied{${TEXT[s].replace(/\s/g, '_')}}`;
}
