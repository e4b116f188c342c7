// The server's HTTP API: JSON requests, problem+json errors, the bearer token asked for
// only after a 401, and Server-Sent Event streams that reconnect when they drop.

const tokenKey = "storectl.token";

// Problem is an error the server described as application/problem+json.
export class Problem extends Error {
  constructor(p) {
    super(p.detail || p.title || "Request failed");
    this.title = p.title || "Request failed";
    this.status = p.status || 0;
    this.detail = p.detail || "";
    this.hint = p.hint || "";
    this.exitCode = p.exitCode;
  }
}

let askToken = async () => null;

// onToken sets the function that asks the user for a token after a 401; it resolves to the
// token, or null when the user declines.
export function onToken(fn) {
  askToken = fn;
}

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  const token = sessionStorage.getItem(tokenKey);
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

// authorize asks for a token after a 401 and reports whether to try again. Once the user
// declines, it asks no more until allowTokenPrompt.
let asking = null;
let declined = false;
async function authorize() {
  if (declined) return false;
  asking ??= askToken().finally(() => { asking = null; });
  const token = await asking;
  if (!token) {
    declined = true;
    return false;
  }
  sessionStorage.setItem(tokenKey, token);
  return true;
}

// allowTokenPrompt lets the next 401 ask for a token again.
export function allowTokenPrompt() {
  declined = false;
}

async function problemOf(res) {
  const type = res.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return new Problem(await res.json());
    } catch {
      // fall through to the status line
    }
  }
  return new Problem({ title: `${res.status} ${res.statusText}`, status: res.status });
}

// request sends one API call and returns its decoded JSON body.
export async function request(method, path, body) {
  for (;;) {
    const init = { method, headers: headers(body ? { "Content-Type": "application/json" } : {}) };
    if (body) init.body = JSON.stringify(body);
    let res;
    try {
      res = await fetch(path, init);
    } catch (err) {
      throw new Problem({ title: "The server cannot be reached", detail: String(err.message || err) });
    }
    if (res.status === 401) {
      sessionStorage.removeItem(tokenKey);
      if (await authorize()) continue;
    }
    if (!res.ok) throw await problemOf(res);
    if (res.status === 204) return null;
    return res.json();
  }
}

// stream follows a text/event-stream, calling on[event](data) for each event and status(state)
// as the connection opens ("open") or drops ("retry"). It reconnects with a growing delay,
// or at once on reconnect(), until stop(). It reads the stream with fetch rather than
// EventSource so that a bearer token can go with it.
export function stream(path, on, status) {
  let stopped = false;
  let delay = 1000;
  let controller;
  let wake = () => {};
  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      let failure;
      try {
        const res = await fetch(path, { headers: headers({ Accept: "text/event-stream" }), signal: controller.signal });
        if (res.status === 401) {
          sessionStorage.removeItem(tokenKey);
          if (await authorize()) continue;
          throw await problemOf(res);
        }
        if (!res.ok) throw await problemOf(res);
        delay = 1000;
        status("open");
        await readEvents(res.body, on, controller);
      } catch (err) {
        failure = err;
      }
      if (stopped) return;
      status("retry", failure);
      await new Promise((r) => {
        wake = r;
        setTimeout(r, delay);
      });
      delay = Math.min(delay * 2, 15000);
    }
  };
  run();
  return {
    stop() { stopped = true; controller?.abort(); wake(); },
    reconnect() { delay = 1000; wake(); },
  };
}

// silence is how long a stream may send nothing before it counts as dropped: the server
// sends a keep-alive comment every 15 seconds, and a connection that died without closing
// (a laptop that slept, a proxy that forgot it) sends nothing at all.
const silence = 45000;

// readEvents parses the event-stream format: fields up to a blank line make one event.
async function readEvents(body, on, controller) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let event = "message";
  let data = [];
  let heard = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - heard > silence) controller.abort();
  }, 5000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      heard = Date.now();
      buf += value;
      ({ buf, event, data } = lines(buf, event, data, on));
    }
  } finally {
    clearInterval(watchdog);
  }
}

// lines dispatches the complete lines of buf and returns what is left with the event so far.
function lines(buf, event, data, on) {
  let nl;
  while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
    if (line === "") {
      if (data.length) dispatch(on, event, data.join("\n"));
      event = "message";
      data = [];
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const val = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = val;
    else if (field === "data") data.push(val);
  }
  return { buf, event, data };
}

function dispatch(on, event, raw) {
  const fn = on[event];
  if (!fn) return;
  try {
    fn(JSON.parse(raw));
  } catch (err) {
    console.warn(`ignoring a malformed ${event} event`, err);
  }
}
