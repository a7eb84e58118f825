// securestore:viewer-guard
// CloudFront Function (cloudfront-js-2.0), viewer request, on EVERY cache behaviour.
//
// Why: CloudFront normalizes a URI's dot segments to choose a cache behaviour, then sends
// the raw URI to the origin, and S3 keys are literal. `/acme/%2e%2e/public/evil.html`
// matches `public/*` (unsigned) but reads the tenant's key `acme/../public/evil.html`.
// So any URI whose raw form could be read as another path is refused before routing:
// a `.` or `..` segment (literal or percent-encoded, any case, any mix), an encoded slash
// or backslash (%2f, %5c), a backslash, an empty segment (`//`) or a control character
// (literal or encoded). Every other URI passes unchanged.
//
// DENY_UNSIGNED is true only in the copy deployed on the default behaviour of a stack
// without a signer public key (dev): then every request reaching that behaviour that
// passes the guard is answered 403, so a missing key never exposes a private file.
var DENY_UNSIGNED = false;

var REFUSED = /%2f|%5c|\\|%[01][0-9a-f]|%7f|[\x00-\x1f\x7f]/i;

function isDotSegment(segment) {
  var decoded = segment.replace(/%2e/gi, '.');
  return decoded === '.' || decoded === '..';
}

function isSafeUri(uri) {
  if (typeof uri !== 'string' || uri.charAt(0) !== '/') {
    return false;
  }
  if (REFUSED.test(uri)) {
    return false;
  }
  var segments = uri.substring(1).split('/');
  for (var i = 0; i < segments.length; i++) {
    if (segments[i] === '' && i < segments.length - 1) {
      return false; // `//`: an empty segment (a trailing `/` stays allowed)
    }
    if (isDotSegment(segments[i])) {
      return false;
    }
  }
  return true;
}

function handler(event) {
  var request = event.request;
  if (!isSafeUri(request.uri)) {
    return { statusCode: 400, statusDescription: 'Bad Request' };
  }
  if (DENY_UNSIGNED) {
    return { statusCode: 403, statusDescription: 'Forbidden' };
  }
  return request;
}
