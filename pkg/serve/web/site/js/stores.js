// The store cards: one per store, kept current by the fleet event stream.

import { $, h, age } from "./dom.js";

const phaseIcon = { Ready: "✓", Failed: "✗", Provisioning: "…", Deleting: "…" };

// Cards renders stores into a list and tells a live region when a store's phase changes.
export class Cards {
  constructor({ list, empty, count, announce, onDelete }) {
    Object.assign(this, { list, empty, count, announce, onDelete });
    this.cards = new Map(); // name → {li, store, parts}
    this.seen = new Set(); // names updated by the stream since the last reconcile began
    setInterval(() => this.refreshAges(), 30000);
  }

  // update shows the store's latest state; a phase change of a known store is announced.
  update(store) {
    store = { ...store, phase: store.phase || store.status };
    this.seen.add(store.name);
    let card = this.cards.get(store.name);
    if (!card) {
      card = this.build(store.name);
      this.cards.set(store.name, card);
      this.insert(card.li, store.name);
    } else if (card.store.phase !== store.phase) {
      this.say(`Store ${store.name} is ${store.phase}.`);
    }
    card.store = store;
    this.fill(card);
    this.counts();
  }

  // remove takes a deleted store's card away, keeping keyboard focus on the page.
  remove(name) {
    this.seen.add(name);
    const card = this.cards.get(name);
    if (!card) return;
    const hadFocus = card.li.contains(document.activeElement);
    card.li.remove();
    this.cards.delete(name);
    this.say(`Store ${name} was deleted.`);
    this.counts();
    if (hadFocus) $("#stores-heading").focus();
  }

  // beginReconcile marks the moment a full list is requested; reconcile then replaces the
  // cards with that list, except for stores the stream changed in the meantime.
  beginReconcile() {
    this.seen.clear();
  }

  reconcile(stores) {
    const listed = new Set(stores.map((s) => s.name));
    for (const name of [...this.cards.keys()]) {
      if (!listed.has(name) && !this.seen.has(name)) this.remove(name);
    }
    for (const s of stores) if (!this.seen.has(s.name)) this.update(s);
  }

  phase(name) {
    return this.cards.get(name)?.store.phase;
  }

  build(name) {
    const id = `store-${name}`;
    const parts = {
      phase: h("span", { class: "phase" }),
      message: h("p", { class: "message" }),
      facts: h("dl", { class: "facts" }),
      components: h("ul", { class: "components", "aria-label": `Components of ${name}` }),
    };
    const del = h("button", { type: "button", class: "quiet-danger", "aria-label": `Delete ${name}`,
      onclick: () => this.onDelete(name, del) }, "Delete");
    const li = h("li", { class: "card", dataset: { store: name } },
      h("article", { "aria-labelledby": id },
        h("header", { class: "card-head" }, h("h3", { id, class: "mono" }, name), parts.phase),
        parts.message, parts.facts, parts.components,
        h("div", { class: "card-actions" }, del)));
    return { li, parts, del };
  }

  fill({ li, store, parts, del }) {
    li.dataset.phase = store.phase;
    parts.phase.dataset.phase = store.phase;
    const icon = phaseIcon[store.phase];
    parts.phase.replaceChildren(...(icon ? [h("span", { "aria-hidden": "true" }, icon), " "] : []), store.phase);
    const msg = [store.reason, store.message].filter(Boolean).join(": ");
    parts.message.textContent = msg;
    parts.message.hidden = !msg;
    parts.facts.replaceChildren(...facts(store));
    parts.components.replaceChildren(...(store.components || []).map((c) =>
      h("li", { dataset: { state: c.state }, title: c.message || "" },
        h("span", { class: "component-name" }, c.name), " ", h("span", { class: "component-state" }, c.state))));
    del.disabled = store.phase === "Deleting";
  }

  insert(li, name) {
    const after = [...this.list.children].find((el) => el.dataset.store > name);
    this.list.insertBefore(li, after || null);
  }

  counts() {
    const n = this.cards.size;
    this.count.textContent = n ? `(${n})` : "";
    this.empty.hidden = n > 0;
  }

  refreshAges() {
    for (const card of this.cards.values()) card.parts.facts.replaceChildren(...facts(card.store));
  }

  say(text) {
    this.announce.textContent = text;
  }
}

function facts(s) {
  const link = (href, text) => h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text);
  const rows = [];
  const add = (term, ...value) => rows.push(h("dt", {}, term), h("dd", {}, ...value));
  if (s.url) add("Store", link(s.url, s.url.replace(/^https?:\/\//, "")));
  if (s.adminUrl) add("Admin", link(s.adminUrl, s.adminUrl.replace(/^https?:\/\//, "")));
  add("Pods", `${s.readyPods ?? 0}/${s.totalPods ?? 0} ready`);
  if (s.chartVersion) add("Chart", s.chartVersion + (s.upgradeAvailable ? ` (${s.upgradeAvailable} available)` : ""));
  const a = age(s.createdAt);
  if (a) add("Age", h("time", { datetime: s.createdAt, title: s.createdAt }, a));
  return rows;
}
