// Small DOM and formatting helpers shared by the views.

export const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element: h("a", {href: u, class: "x"}, "text", child...). Text is always set as
// text, never parsed as HTML.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

// showProblem fills a problem box with what went wrong and what to do next.
export function showProblem(box, err) {
  box.replaceChildren();
  if (!err) {
    box.hidden = true;
    return;
  }
  const title = err.title || "Something went wrong";
  box.append(h("p", { class: "problem-title" }, title));
  if (err.detail && err.detail !== title) box.append(h("p", {}, err.detail));
  else if (!err.title && err.message) box.append(h("p", {}, err.message));
  if (err.hint) box.append(h("p", { class: "problem-hint" }, h("span", { class: "label" }, "Next: "), err.hint));
  box.hidden = false;
}

// seconds formats a duration given in seconds.
export function seconds(s) {
  if (typeof s !== "number" || !isFinite(s)) return "–";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

// age says how long ago an RFC 3339 time was.
export function age(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (!t || t < 0) return "";
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

// when formats an RFC 3339 time for people, keeping the exact value in a <time> element.
export function when(iso) {
  const t = new Date(iso);
  if (isNaN(t)) return document.createTextNode(iso || "");
  return h("time", { datetime: iso, title: iso }, t.toLocaleString());
}
