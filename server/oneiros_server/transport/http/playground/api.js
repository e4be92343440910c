// The public HTTP API as the page calls it: JSON and multipart requests, server-sent events,
// the bearer token (this tab's memory only) and errors told in words, next to their control.

let token = "";
const unauthorizedListeners = [];

/** Use `value` as the bearer token of every later call (kept in memory, never stored). */
export function setToken(value) {
  token = value.trim();
}

/** `listener()` runs whenever the server answers 401 (the page then asks for a token). */
export function onUnauthorized(listener) {
  unauthorizedListeners.push(listener);
}

/** An HTTP failure: `status` (0 = unreachable), the JSON error body (google.rpc.Status) and headers. */
export class ApiError extends Error {
  constructor(status, body = null, headers = null) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.retryAfter = headers?.get("retry-after") || "";
    this.requestId = headers?.get("x-request-id") || "";
  }

  /** The request fields the server named (google.rpc.BadRequest field violations). */
  get fields() {
    const found = [];
    for (const detail of this.body?.details || []) {
      for (const violation of detail.fieldViolations || []) found.push(violation);
    }
    return found;
  }
}

/**
 * One call: `json` (an object) or `form` (FormData) as the body; resolves to the Response when it
 * is 2xx, else throws ApiError (or the AbortError of `signal`).
 */
export async function call(path, { json, form, accept = "application/json", signal } = {}) {
  const headers = { accept };
  if (token) headers.authorization = `Bearer ${token}`;
  const init = { method: json || form ? "POST" : "GET", headers, signal };
  if (json) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0);
  }
  if (response.ok) return response;
  let body = null;
  try {
    body = (await response.json()).error || null;
  } catch {
    // not JSON (a proxy's page, say): the status alone tells what happened
  }
  if (response.status === 401) unauthorizedListeners.forEach((listener) => listener());
  throw new ApiError(response.status, body, response.headers);
}

/** The events of a text/event-stream response: yields each `data:` as parsed JSON; an `error` event throws. */
export async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue; // a keep-alive comment
      const parsed = JSON.parse(data.join("\n"));
      if (name === "error") {
        const error = parsed.error || {};
        throw new ApiError(error.code || 500, error, response.headers);
      }
      yield parsed;
    }
  }
}

/** What went wrong, for a person. */
export function describe(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error.message}.`;
  const said = error.body?.message ? `: ${error.body.message}` : ".";
  const retry = error.retryAfter ? ` Try again in ${error.retryAfter} s.` : " Try again shortly.";
  switch (error.status) {
    case 0: return "The server could not be reached. Is it still running?";
    case 400: return `The server did not accept this request${said}`;
    case 401: return token
      ? "The server did not accept this access token. Check it at the top of the page."
      : "This server needs an access token: enter it at the top of the page.";
    case 404: return `Not found${said}`;
    case 413: return "This file is too large for the server. Try a smaller picture.";
    case 415: return "The server does not take this kind of upload.";
    case 422: return `This model cannot do that${said}`;
    case 429: return `The server is busy with other work.${retry}`;
    case 503: return `The server is not ready (starting, stopping, or the model failed to load)${said}${retry}`;
    case 504: return "This took longer than the time allowed, so the server stopped it.";
    default: return `The server failed (HTTP ${error.status}${error.requestId ? `, request ${error.requestId}` : ""}).`;
  }
}

/**
 * Show `error` in `section`, beside the control it names (else beside the section's buttons); a
 * missing or refused token (401) is shown once, beside the token field.
 */
export function showError(section, error) {
  if (error instanceof ApiError && error.status === 401) section = document.getElementById("auth");
  clearErrors(section);
  let anchor = null;
  for (const violation of error instanceof ApiError ? error.fields : []) {
    const name = (violation.field.match(/^[a-z_]+/) || [""])[0];
    const control = section.querySelector(`[data-field~="${name}"]`);
    if (!control) continue;
    control.closest(".field")?.querySelectorAll("input, select, textarea").forEach((c) => c.setAttribute("aria-invalid", "true"));
    anchor ||= control.closest(".field") || control;
  }
  anchor ||= section.querySelector(".actions") || section;
  const message = document.createElement("p");
  message.className = "error";
  message.setAttribute("role", "alert");
  message.dataset.testid = "error";
  message.textContent = describe(error);
  if (anchor.classList.contains("actions")) anchor.after(message);
  else anchor.append(message);
}

/** Remove the errors shown in `section`. */
export function clearErrors(section) {
  section.querySelectorAll(".error").forEach((node) => node.remove());
  section.querySelectorAll("[aria-invalid]").forEach((node) => node.removeAttribute("aria-invalid"));
}

/** A data: URL for a base64 image of the API (`{data}`); PNG unless said. */
export function imageUrl(image, type = "image/png") {
  return `data:${type};base64,${image.data}`;
}

/** A number input's value, or undefined when it is empty (the server's default then applies). */
export function number(input) {
  return input.value.trim() === "" ? undefined : Number(input.value);
}

/**
 * Wrap `work(arg)` (async) so that at most one runs at a time and, while it runs, only the newest
 * argument waits: requests that a newer one overtakes are dropped, never queued.
 */
export function latestOnly(work) {
  let waiting = null;
  let running = false;
  return async function request(arg) {
    waiting = { arg };
    if (running) return;
    running = true;
    try {
      while (waiting) {
        const next = waiting;
        waiting = null;
        await work(next.arg);
      }
    } finally {
      running = false;
    }
  };
}
