// The activity tab: the server's audit log, newest first, with its filters.

import { request } from "./api.js";
import { h, seconds, when } from "./dom.js";

// loadActivity fetches the records the filter form asks for and fills the table.
export async function loadActivity(form, table, empty) {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (String(v).trim()) q.set(k, String(v).trim());
  const body = await request("GET", `/api/audit?${q}`);
  const items = body?.items || [];
  table.tBodies[0].replaceChildren(...items.map(row));
  empty.hidden = items.length > 0;
  table.hidden = items.length === 0;
}

function row(r) {
  const duration = typeof r.durationSeconds === "number" ? r.durationSeconds
    : typeof r.duration === "number" ? r.duration / 1e9 : undefined;
  const detail = [r.reason, r.error].filter(Boolean).join(": ");
  // data-label names the column where a narrow screen stacks the cells.
  const td = (label, attrs, ...c) => h("td", { ...attrs, dataset: { label } }, ...c);
  return h("tr", {},
    td("Time", {}, when(r.time)),
    td("Action", {}, r.action || ""),
    td("Store", { class: "mono" }, r.store || "–"),
    td("Outcome", {}, h("span", { class: "outcome", dataset: { outcome: r.outcome || "" } }, r.outcome || "")),
    td("Duration", { class: "num" }, seconds(duration)),
    td("Actor", {}, r.actor || ""),
    td("Detail", { class: "detail" }, detail));
}
