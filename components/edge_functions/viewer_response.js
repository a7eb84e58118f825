// securestore:viewer-response
// CloudFront Function (cloudfront-js-2.0), viewer response, on the private (default) behaviour.
//
// Why: every tenant's files are served from one host name, and the signed cookies of every
// tenant a browser has opened ride along to every path of it (cookie paths do not isolate:
// RFC 6265 section 8.5). A stored HTML page or SVG rendered there could read other paths
// with a victim's cookies. So every private response gets a `sandbox` CSP (no script, an
// opaque origin: nothing it loads shares the host's cookies or storage), and anything not
// on the inline-safe list is sent as a download (`Content-Disposition: attachment`), which
// a browser saves instead of rendering. The response headers policy adds nosniff, so a
// text/plain file is never sniffed into HTML.
//
// INLINE_SAFE is replaced at deploy time with the stack's inlineContentTypes (lower case,
// media types without parameters); the line below is the default.
var INLINE_SAFE = ["application/pdf", "image/gif", "image/jpeg", "image/png", "image/webp", "text/plain"]; // securestore:inline-safe
var SANDBOX_CSP = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'";

function mediaType(value) {
  return String(value || '').split(';')[0].trim().toLowerCase();
}

function handler(event) {
  var response = event.response;
  var headers = response.headers;
  var type = headers['content-type'] ? mediaType(headers['content-type'].value) : '';
  headers['content-security-policy'] = { value: SANDBOX_CSP };
  if (INLINE_SAFE.indexOf(type) === -1) {
    headers['content-disposition'] = { value: 'attachment' };
  }
  return response;
}
