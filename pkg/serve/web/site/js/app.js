// The dashboard: store cards over the fleet event stream, create and delete dialogs, the
// activity and metrics tabs.

import { request, stream, onToken, allowTokenPrompt } from "./api.js";
import { $, showProblem } from "./dom.js";
import { nameRule, checkName } from "./names.js";
import { Cards } from "./stores.js";
import { loadActivity } from "./activity.js";
import { loadMetrics } from "./metrics.js";

const pageError = $("#error");
const announce = $("#announce");
let rule = { pattern: null, minLength: 1, reserved: new Set(), reservedPrefixes: [], notPatterns: [] };

const cards = new Cards({
  list: $("#stores"), empty: $("#stores-empty"), count: $("#store-count"), announce,
  onDelete: (name, button) => openDelete(name, button),
});

// --- dialogs -----------------------------------------------------------------------------

// open shows a modal dialog and gives focus back to opener (or a fallback) when it closes.
function open(dialog, opener, focus) {
  dialog.returnTo = opener;
  dialog.showModal();
  (focus || dialog.querySelector("[autofocus], input, button")).focus();
}

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("close", () => {
    const back = dialog.returnTo?.isConnected ? dialog.returnTo : $("#stores-heading");
    back.focus();
  });
  for (const b of dialog.querySelectorAll("[data-close]")) b.addEventListener("click", () => dialog.close());
}

// --- token -------------------------------------------------------------------------------

onToken(() => new Promise((resolve) => {
  const dialog = $("#token-dialog");
  const input = $("#token-input");
  input.value = "";
  const done = () => {
    dialog.removeEventListener("close", done);
    resolve(dialog.returnValue === "ok" && input.value ? input.value : null);
  };
  dialog.returnValue = "";
  dialog.addEventListener("close", done);
  open(dialog, document.activeElement, input);
}));

$("#token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!$("#token-input").value) return;
  $("#token-dialog").close("ok");
});

// --- create ------------------------------------------------------------------------------

const nameInput = $("#create-name");
const nameError = $("#create-name-error");

function validateName() {
  const msg = checkName(nameInput.value, rule);
  // An empty field is not an error while typing; submitting it is (see below).
  nameError.textContent = nameInput.value ? msg : "";
  nameInput.setAttribute("aria-invalid", msg ? "true" : "false");
  return msg;
}

nameInput.addEventListener("input", validateName);

$("#new-store").addEventListener("click", (e) => {
  $("#create-form").reset();
  nameError.textContent = "";
  nameInput.setAttribute("aria-invalid", "false");
  showProblem($("#create-problem"), null);
  open($("#create-dialog"), e.currentTarget, nameInput);
});

$("#create-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const msg = validateName();
  if (msg) {
    nameError.textContent = msg;
    nameInput.focus();
    return;
  }
  const submit = $("#create-submit");
  submit.disabled = true;
  try {
    const store = await request("POST", "/api/stores", { name: nameInput.value, type: $("#create-type").value });
    cards.update(store);
    announce.textContent = `Creating store ${store.name}.`;
    $("#create-dialog").close();
  } catch (err) {
    showProblem($("#create-problem"), err);
    nameInput.focus();
  } finally {
    submit.disabled = false;
  }
});

// --- delete ------------------------------------------------------------------------------

let deleting = "";

function openDelete(name, button) {
  deleting = name;
  $("#delete-name").textContent = name;
  showProblem($("#delete-problem"), null);
  open($("#delete-dialog"), button, $("#delete-cancel"));
}

$("#delete-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const confirm = $("#delete-confirm");
  confirm.disabled = true;
  try {
    const store = await request("DELETE", `/api/stores/${encodeURIComponent(deleting)}`);
    if (store?.name) cards.update(store); // reads Deleting, and says so
    $("#delete-dialog").returnTo = $("#stores-heading");
    $("#delete-dialog").close();
  } catch (err) {
    showProblem($("#delete-problem"), err);
  } finally {
    confirm.disabled = false;
  }
});

// --- tabs --------------------------------------------------------------------------------

const tabs = [...document.querySelectorAll('[role="tab"]')];
const loaders = {
  "tab-activity": () => loadActivity($("#audit-filter"), $("#audit"), $("#audit-empty")),
  "tab-metrics": () => loadMetrics($("#metrics")),
};

async function load(tab) {
  try {
    await loaders[tab.id]?.();
    showProblem(pageError, null);
  } catch (err) {
    showProblem(pageError, err);
  }
}

function select(tab, focus = true) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(`#${t.getAttribute("aria-controls")}`).hidden = !on;
  }
  if (focus) tab.focus();
  history.replaceState(null, "", `#${tab.id.replace("tab-", "")}`);
  load(tab);
}

for (const t of tabs) {
  t.addEventListener("click", () => select(t));
  t.addEventListener("keydown", (e) => {
    const i = tabs.indexOf(t);
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length]);
  });
}

// refreshSoon reloads the activity or metrics tab while it is shown, once changes settle.
let refreshTimer;
function refreshSoon() {
  const tab = tabs.find((t) => t.getAttribute("aria-selected") === "true");
  if (!loaders[tab.id]) return;
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => load(tab), 1500);
}

$("#audit-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  load($("#tab-activity"));
});
$("#metrics-refresh").addEventListener("click", () => load($("#tab-metrics")));

// --- the fleet stream --------------------------------------------------------------------

const connection = $("#connection");

const tokenButton = $("#token-button");
let fleet;

function connected(state, err) {
  connection.dataset.state = state;
  const refused = err?.status === 401;
  connection.textContent = state === "open" ? "Live" : refused ? "Token needed" : "Reconnecting…";
  tokenButton.hidden = !refused;
  if (state === "open") {
    reconcile();
  } else if (err?.status) {
    showProblem(pageError, err);
  }
}

tokenButton.addEventListener("click", () => {
  allowTokenPrompt();
  fleet?.reconnect();
});

// reconcile reads the full list after each (re)connect, so a store deleted while the stream
// was down loses its card.
async function reconcile() {
  cards.beginReconcile();
  try {
    const body = await request("GET", "/api/stores");
    cards.reconcile(body?.items || []);
    showProblem(pageError, null);
  } catch (err) {
    showProblem(pageError, err);
  }
}

async function start() {
  try {
    rule = { ...rule, ...nameRule(await request("GET", "/api/openapi.json")) };
    if (rule.types?.length) {
      $("#create-type").replaceChildren(...rule.types.map((t) => new Option(t, t)));
    }
    if (rule.maxLength) {
      $("#create-name-rule").textContent = `Up to ${rule.maxLength} lowercase letters, digits and hyphens; starts with a letter.`;
    }
  } catch (err) {
    console.warn("the name rule is checked by the server only:", err);
  }
  fleet = stream("/api/events", {
    store: (s) => { cards.update(s); refreshSoon(); },
    deleted: (d) => { cards.remove(d.name); refreshSoon(); },
  }, connected);
  const tab = tabs.find((t) => t.id === `tab-${location.hash.slice(1)}`);
  if (tab) select(tab, false);
}

start();
