// The Models section (GET /v1/models) and the model pickers of the other sections.

import { call, clearErrors, showError } from "./api.js";

const listeners = [];

/** `listener(models)` runs after every successful load of the model list. */
export function onModels(listener) {
  listeners.push(listener);
}

/** Load /v1/models, render the list and tell the other sections. */
export async function loadModels() {
  const section = document.getElementById("models");
  const list = document.getElementById("models-list");
  clearErrors(section);
  try {
    const response = await call("/v1/models");
    const models = (await response.json()).models || [];
    clearErrors(document.getElementById("auth")); // the token, if one was asked for, is accepted
    list.replaceChildren(...models.map(card));
    if (!models.length) list.textContent = "The repository holds no models.";
    listeners.forEach((listener) => listener(models));
  } catch (error) {
    list.replaceChildren();
    showError(section, error);
  }
}

/**
 * Fill `select` with the models that `keep(model)` accepts, the RPC's default first; keeps the
 * current choice when it is still there. `label(model)` names an option.
 */
export function fillSelect(select, models, keep, rpc, label = (m) => m.name) {
  const chosen = select.value;
  const fitting = models.filter(keep);
  fitting.sort((a, b) => Number((b.defaultFor || []).includes(rpc)) - Number((a.defaultFor || []).includes(rpc)));
  const options = fitting.map((model) => {
    const option = new Option(label(model), model.name);
    option.disabled = model.status !== "READY";
    return option;
  });
  select.replaceChildren(...options);
  if (fitting.some((m) => m.name === chosen)) select.value = chosen;
  select.disabled = !fitting.length;
  select.dispatchEvent(new Event("change"));
}

function card(model) {
  const article = document.createElement("article");
  const title = document.createElement("h3");
  const name = document.createElement("span");
  name.textContent = model.name;
  const status = document.createElement("span");
  const ready = model.status === "READY";
  status.className = `badge ${ready ? "ready" : "unavailable"}`;
  status.textContent = ready ? "ready" : `${(model.status || "unknown").toLowerCase()}`;
  title.append(name, status);
  article.append(title);
  article.append(line(`${kindName(model.kind)} · version ${model.version} · ${model.runtime} on ${model.device}` +
    (model.precision ? ` (${model.precision})` : "")));
  if (!ready && model.statusReason) article.append(line(`Why: ${model.statusReason}`));
  if (model.description) article.append(line(model.description));
  if (model.defaultFor?.length) article.append(line(`Default for ${model.defaultFor.join(", ")}`));
  const facts = {};
  if (model.latentSize) facts["latent size"] = model.latentSize;
  if (model.vocabularySize) facts["vocabulary"] = `${model.vocabularySize} characters`;
  if (model.attributes?.length) facts["attributes"] = model.attributes.join(", ");
  article.append(definitions(facts));
  const metrics = Object.fromEntries(Object.entries(model.metrics || {}).sort().map(([k, v]) => [k, round(v)]));
  if (Object.keys(metrics).length) article.append(folded("Figures", metrics, Object.keys(metrics).length <= 8));
  const parameters = flatten(model.defaultParameters || {});
  if (Object.keys(parameters).length) article.append(folded("Default parameters", parameters, false));
  return article;
}

function folded(title, facts, open) {
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = `${title} (${Object.keys(facts).length})`;
  details.open = open;
  details.append(summary, definitions(facts));
  return details;
}

function kindName(kind) {
  const names = { LANGUAGE_MODEL: "language model", CONVNET: "convnet", VAE: "VAE", GAN: "GAN", STYLE_NETWORK: "style network" };
  return names[kind] || String(kind || "unknown kind").toLowerCase();
}

function line(text) {
  const p = document.createElement("p");
  p.textContent = text;
  return p;
}

function definitions(facts) {
  const dl = document.createElement("dl");
  for (const [key, value] of Object.entries(facts)) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = key;
    dd.textContent = String(value);
    dl.append(dt, dd);
  }
  return dl;
}

function flatten(object, prefix = "") {
  const out = {};
  for (const [key, value] of Object.entries(object)) {
    if (value && typeof value === "object" && !Array.isArray(value)) Object.assign(out, flatten(value, `${prefix}${key}.`));
    else out[prefix + key] = Array.isArray(value) ? value.join(", ") : value === null ? "unset" : round(value);
  }
  return out;
}

function round(value) {
  return typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;
}
