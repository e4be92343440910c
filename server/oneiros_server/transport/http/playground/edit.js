// Latent spaces, editing (POST /v1/edit-latent): an uploaded, bundled or drawn digit moved along
// attribute vectors (one strength per attribute, applied together), a sweep strip along one
// attribute, and the interpolation towards a second digit.

import { call, clearErrors, latestOnly, number, showError } from "./api.js";
import { showPng } from "./latent.js";
import { fillSelect, onModels } from "./models.js";
import { PictureSource } from "./pictures.js";

const $ = (id) => document.getElementById(id);
const SWEEP = [-3, -2, -1, 0, 1, 2, 3];

/** Wire the editing panel. */
export function setupEdit() {
  const panel = $("edit-panel");
  const attribute = $("edit-attribute");
  const strength = $("edit-strength");
  const strengths = new Map(); // attribute -> strength; every non-zero one is applied
  let edit = () => {};
  const pick = (name) => document.querySelector(`[data-target=${name}]`);
  const source = new PictureSource($("edit-image"), pick("edit"), $("edit-source"), { changed: () => edit() });
  const target = new PictureSource($("interpolate-image"), pick("interpolate"), $("interpolate-source"), { first: 1 });
  drawing($("edit-canvas"), source, $("edit-clear"));

  async function post(fields, img) {
    clearErrors(panel);
    const form = new FormData();
    const picture = await source.blob();
    form.append("image", picture, picture.name || "digit.png");
    form.append("model", $("edit-model").value);
    for (const [name, value] of Object.entries(fields)) {
      if (value instanceof Blob) form.append(name, value, value.name || "digit.png");
      else if (value !== undefined) form.append(name, typeof value === "string" ? value : JSON.stringify(value));
    }
    try {
      await showPng(img, await call("/v1/edit-latent", { form, accept: "image/png" }));
    } catch (error) {
      showError(panel, error);
    }
  }

  edit = latestOnly(() => {
    const edits = [...strengths].filter(([, s]) => s !== 0).map(([name, s]) => ({ attribute: name, strength: s }));
    const said = edits.map((e) => `${e.attribute} ${e.strength > 0 ? "+" : ""}${e.strength}`).join(" · ");
    $("edit-summary").textContent = said ? `Applied: ${said}` : "No edits: the digit as the model reconstructs it.";
    return post({ edits }, $("edit-result"));
  });

  let models = [];
  onModels((all) => {
    models = all;
    fillSelect($("edit-model"), all, (m) => m.kind === "VAE" && m.attributes?.length, "EditLatent");
  });
  $("edit-model").addEventListener("change", () => {
    const model = $("edit-model").value;
    const names = models.find((m) => m.name === model)?.attributes || [];
    strengths.clear();
    attribute.replaceChildren(...names.map((name) => new Option(name.replace("_", " "), name)));
    showStrength();
    if (model) edit();
  });

  function showStrength() {
    strength.value = strengths.get(attribute.value) || 0;
    $("edit-strength-value").textContent = Number(strength.value).toFixed(1);
  }
  attribute.addEventListener("change", showStrength);
  strength.addEventListener("input", () => {
    strengths.set(attribute.value, Number(strength.value));
    $("edit-strength-value").textContent = Number(strength.value).toFixed(1);
    edit();
  });
  $("edit-reset").addEventListener("click", () => {
    strengths.clear();
    showStrength();
    edit();
  });
  $("edit-sweep").addEventListener("click", () =>
    post({ sweep_attribute: attribute.value, strengths: SWEEP }, $("edit-sweep-result")),
  );
  $("interpolate-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const steps = number($("interpolate-steps"));
    post({ target_image: await target.blob(), interpolation_steps: steps, interpolation: $("interpolate-kind").value },
      $("interpolate-result"));
  });
}

/** Draw a digit with a mouse, a finger or a pen; each stroke makes the drawing the source. */
function drawing(canvas, source, clear) {
  const context = canvas.getContext("2d");
  const blank = () => {
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  blank();
  let last = null;
  const at = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) * canvas.width) / rect.width, ((event.clientY - rect.top) * canvas.height) / rect.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    last = at(event);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!last) return;
    const next = at(event);
    context.strokeStyle = "#fff";
    context.lineWidth = canvas.width / 11;
    context.lineCap = context.lineJoin = "round";
    context.beginPath();
    context.moveTo(...last);
    context.lineTo(...next);
    context.stroke();
    last = next;
  });
  const end = () => {
    if (!last) return;
    last = null;
    source.use(() => new Promise((resolve) => canvas.toBlob(resolve, "image/png")), "your drawing");
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  clear.addEventListener("click", blank);
}
