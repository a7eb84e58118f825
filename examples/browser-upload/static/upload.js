// Browser side of the reference upload flow: ask the backend for a signed request, send the
// bytes straight to S3, show progress, and show S3's reason when it refuses.
//
// Three methods, each one function below:
//   uploadPut       one PUT with exactly the headers the backend says were signed;
//   uploadPost      a multipart/form-data POST: the policy fields first, the file last;
//   uploadMultipart the backend creates the upload and signs one URL per part; the page PUTs
//                   each slice, reads its ETag (the bucket's CORS rules must expose it), and
//                   the backend completes (or aborts) the upload from what the page reports.
// XMLHttpRequest, not fetch, because only XHR reports upload progress.
"use strict";

const PART_CONCURRENCY = 3;
const SCAN_POLL_MS = 2000;
const SCAN_WAIT_MS = 5 * 60 * 1000;

class UploadRefused extends Error {}

async function api(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  const payload = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new UploadRefused(`backend refused (${response.status}): ${payload.error || response.statusText}`);
  }
  return payload;
}

// S3 answers a refusal with <Error><Code>..</Code><Message>..</Message></Error>.
function s3Reason(xhr) {
  const text = xhr.responseText || "";
  const code = /<Code>([^<]*)<\/Code>/.exec(text);
  const message = /<Message>([^<]*)<\/Message>/.exec(text);
  if (code) return `${code[1]}: ${message ? message[1] : ""}`;
  return text.slice(0, 200) || xhr.statusText;
}

// Send one request to S3; resolves with the XHR on 2xx, rejects with S3's reason otherwise.
function send(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable && onProgress) onProgress(event.loaded); };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr);
      else reject(new UploadRefused(`S3 refused the upload (${xhr.status}) ${s3Reason(xhr)}`));
    };
    // Status 0: the browser withheld the answer, e.g. a CORS preflight S3 refused.
    xhr.onerror = () => reject(new UploadRefused(
      "the browser blocked the request (no CORS permission for this page, or a network error)"));
    xhr.send(body);
  });
}

function contentType(file) {
  return file.type || "application/octet-stream";
}

async function uploadPut(file, onProgress) {
  // The URL is signed for this exact size: S3 refuses a body of any other length.
  const signed = await api("/api/uploads/put", {
    filename: file.name, content_type: contentType(file), size: file.size,
  });
  await send("PUT", signed.url, signed.headers, file, onProgress);
  return signed.key;
}

async function uploadPost(file, onProgress) {
  const signed = await api("/api/uploads/post", { filename: file.name, content_type: contentType(file) });
  const form = new FormData();
  for (const [name, value] of Object.entries(signed.fields)) form.append(name, value);
  form.append("file", file);  // S3 ignores every field after the file
  await send("POST", signed.url, {}, form, (loaded) => onProgress(Math.min(loaded, file.size)));
  return signed.key;
}

async function uploadMultipart(file, onProgress) {
  const upload = await api("/api/uploads/multipart", {
    filename: file.name, content_type: contentType(file), size: file.size,
  });
  const loaded = new Array(upload.parts.length).fill(0);
  const etags = new Array(upload.parts.length);
  const report = () => onProgress(loaded.reduce((a, b) => a + b, 0));
  let next = 0;
  async function worker() {
    while (next < upload.parts.length) {
      const index = next++;
      const part = upload.parts[index];
      const slice = file.slice(part.offset, part.offset + part.length);
      const xhr = await send("PUT", part.url, {}, slice, (n) => { loaded[index] = n; report(); });
      const etag = xhr.getResponseHeader("ETag");
      if (!etag) throw new UploadRefused("S3 sent no readable ETag: the bucket's CORS rules must expose it");
      etags[index] = { part_number: part.part_number, etag };
      loaded[index] = part.length;
      report();
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, upload.parts.length) }, worker));
  } catch (error) {
    await api("/api/uploads/multipart/abort", { key: upload.key, upload_id: upload.upload_id }).catch(() => {});
    throw error;
  }
  const done = await api("/api/uploads/multipart/complete", {
    key: upload.key, upload_id: upload.upload_id, parts: etags,
  });
  return done.key;
}

const METHODS = { put: uploadPut, post: uploadPost, multipart: uploadMultipart };

const states = [];  // every state shown, in order (the browser tests read it)

function show(state, text, key) {
  states.push(state);
  const result = document.getElementById("result");
  result.dataset.state = state;
  result.dataset.key = key || "";
  result.textContent = text;
}

function showProgress(loaded, total) {
  const fraction = total ? loaded / total : 1;
  document.getElementById("progress").value = fraction;
  document.getElementById("percent").textContent = `${Math.round(fraction * 100)}%`;
}

// Where the stack scans uploads for malware, a file is readable only once GuardDuty has tagged
// it NO_THREATS_FOUND: show "scanning" until the backend says it is ready (or quarantined).
async function untilScanned(key) {
  const deadline = Date.now() + SCAN_WAIT_MS;
  for (;;) {
    const answer = await api("/api/uploads/scan", { key });
    if (answer.state === "ready") return show("done", `Stored as ${key}`, key);
    if (answer.state === "quarantined") {
      return show("quarantined", `Quarantined (${answer.scan_status}): ${key} cannot be opened; a reviewer was alerted`, key);
    }
    if (Date.now() > deadline) return show("scanning", `Still scanning ${key}; check again later`, key);
    show("scanning", `Scanning ${key} for malware...`, key);
    await new Promise((resolve) => setTimeout(resolve, SCAN_POLL_MS));
  }
}

async function upload(method, file) {
  show("uploading", `Uploading ${file.name} by ${method}...`);
  showProgress(0, file.size);
  let key;
  try {
    key = await METHODS[method](file, (loaded) => showProgress(loaded, file.size));
  } catch (error) {
    show("refused", `Refused: ${error.message}`);
    return null;
  }
  showProgress(file.size, file.size);
  try {
    await untilScanned(key);
  } catch (error) {
    show("refused", `Uploaded as ${key}, but its scan status is unknown: ${error.message}`, key);
  }
  return key;
}

async function refreshWho() {
  const response = await fetch("/api/me", { credentials: "same-origin" });
  const who = document.getElementById("who");
  if (response.ok) {
    const me = await response.json();
    who.textContent = `signed in as ${me.user} (tenant ${me.tenant})`;
    who.dataset.tenant = me.tenant;
  } else {
    who.textContent = "not signed in";
    who.dataset.tenant = "";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("/api/sign-in", { user: document.getElementById("user").value });
    } catch (error) {
      show("refused", error.message);
    }
    await refreshWho();
  });
  document.getElementById("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const file = document.getElementById("file").files[0];
    if (!file) return show("refused", "Pick a file first.");
    const method = document.querySelector("input[name=method]:checked").value;
    upload(method, file);
  });
  refreshWho();
});

// For scripted checks (the browser tests): the same functions the form uses.
window.securestoreUpload = { api, upload, uploadPut, uploadPost, uploadMultipart, states };
