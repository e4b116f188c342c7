// The metrics view: /api/metrics shown as labelled figures and tables, whatever its nesting.

import { request } from "./api.js";
import { h, seconds } from "./dom.js";

// loadMetrics fetches the figures and renders them into box.
export async function loadMetrics(box) {
  const m = await request("GET", "/api/metrics");
  box.replaceChildren(...section(m, 3));
}

// label turns a JSON key into words: "byPhase" → "By phase", "p95Seconds" → "p95".
function label(key) {
  const words = String(key).replace(/Seconds$/, "").replace(/_/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return /^p\d+$/.test(words) ? words : words.charAt(0).toUpperCase() + words.slice(1);
}

// value formats one figure; durations of a group with no samples (n is 0) are not zero but
// unknown.
function value(key, v, group = {}) {
  if (typeof v === "number" && /seconds$/i.test(key)) return group.n === 0 ? "–" : seconds(v);
  if (typeof v === "number") return v.toLocaleString();
  if (v === null || v === undefined || v === "") return "–";
  return String(v);
}

const plain = (v) => v === null || typeof v !== "object";

// section renders an object: its plain values as a list of figures, then each nested object
// or array under its own heading.
function section(obj, level) {
  if (plain(obj)) return [h("p", {}, value("", obj))];
  if (Array.isArray(obj)) return [list(obj)];
  const out = [];
  const figures = Object.entries(obj).filter(([, v]) => plain(v));
  if (figures.length) {
    out.push(h("dl", { class: "figures" }, figures.map(([k, v]) =>
      h("div", { class: "figure" }, h("dt", {}, label(k)), h("dd", {}, value(k, v, obj))))));
  }
  for (const [k, v] of Object.entries(obj)) {
    if (plain(v)) continue;
    out.push(h("section", { class: "metric-group" }, h(`h${Math.min(level, 6)}`, {}, label(k)), ...section(v, level + 1)));
  }
  if (!out.length) out.push(h("p", { class: "empty" }, "None yet."));
  return out;
}

// list renders an array of flat objects as a table, anything else as a list.
function list(items) {
  if (!items.length) return h("p", { class: "empty" }, "None yet.");
  if (!items.every((i) => i && typeof i === "object" && !Array.isArray(i))) {
    return h("ul", {}, items.map((i) => h("li", {}, plain(i) ? value("", i) : JSON.stringify(i))));
  }
  const keys = [...new Set(items.flatMap((i) => Object.keys(i)))];
  const cell = (k, v) => (plain(v) ? value(k, v) : Array.isArray(v) ? v.map((x) => (plain(x) ? x : Object.values(x).join(" "))).join(", ") : JSON.stringify(v));
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col" }, label(k))))),
    h("tbody", {}, items.map((i) => h("tr", {}, keys.map((k) => h("td", { class: typeof i[k] === "number" ? "num" : "" }, cell(k, i[k]))))))));
}
