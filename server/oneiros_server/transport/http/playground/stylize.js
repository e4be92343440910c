// The Stylize section: Gatys (a photo and a painting, optimised) or a feed-forward style
// network (kind STYLE_NETWORK: the photo only, one click) -> StylizeStream.

import { number } from "./api.js";
import { JobPanel, previewEvery, put } from "./jobs.js";
import { fillSelect, onModels } from "./models.js";
import { PictureSource } from "./pictures.js";

const $ = (id) => document.getElementById(id);
const STYLE_NETWORK = "STYLE_NETWORK";

/** Wire the section's controls. */
export function setupStylize() {
  const pick = (name) => document.querySelector(`[data-target=stylize-${name}]`);
  const content = new PictureSource($("stylize-content"), pick("content"), $("stylize-content-source"), {
    view: $("stylize-content-view"),
  });
  const style = new PictureSource($("stylize-style"), pick("style"), $("stylize-style-source"), {
    view: $("stylize-style-view"),
  });
  const panel = new JobPanel("stylize", "/v1/stylize/stream", "stylized.png");
  const select = $("stylize-model");
  let models = [];
  const chosen = () => models.find((m) => m.name === select.value);
  const isNetwork = () => chosen()?.kind === STYLE_NETWORK;

  onModels((all) => {
    models = all;
    const label = (m) => (m.kind === STYLE_NETWORK ? `${m.name}: style network, one painting, fast` : `${m.name}: Gatys, any painting`);
    fillSelect(select, all, (m) => m.kind === "CONVNET" || m.kind === STYLE_NETWORK, "Stylize", label);
    quickButtons(all.filter((m) => m.kind === STYLE_NETWORK && m.status === "READY"), (name) => {
      select.value = name;
      select.dispatchEvent(new Event("change"));
      $("stylize-form").requestSubmit();
    });
  });
  select.addEventListener("change", () => {
    document.querySelectorAll("#stylize .gatys").forEach((node) => (node.hidden = isNetwork()));
    $("stylize-style-view").parentElement.hidden = isNetwork();
    const defaults = chosen()?.defaultParameters?.stylize || {};
    $("stylize-style-weight").placeholder = defaults.style_weight ?? "model's";
    $("stylize-content-weight").placeholder = defaults.content_weight ?? "model's";
  });

  $("stylize-form").addEventListener("submit", (event) => {
    event.preventDefault();
    panel.run(async () => {
      const form = new FormData();
      const photo = await content.blob();
      form.append("content", photo, photo.name || "photo.jpg");
      put(form, "model", select.value);
      put(form, "max_side", number($("stylize-max-side")));
      if ($("stylize-preserve").checked) put(form, "preserve_color", "true");
      if (isNetwork()) {
        put(form, "preview_every", 1);
        return form;
      }
      const painting = await style.blob();
      form.append("style", painting, painting.name || "painting.jpg");
      const steps = number($("stylize-steps"));
      put(form, "steps", steps);
      put(form, "style_weight", number($("stylize-style-weight")));
      put(form, "content_weight", number($("stylize-content-weight")));
      put(form, "optimizer", $("stylize-optimizer").value);
      put(form, "seed", number($("stylize-seed")));
      put(form, "preview_every", previewEvery(steps || 100));
      return form;
    });
  });
}

function quickButtons(networks, run) {
  const box = $("stylize-quick");
  box.hidden = !networks.length;
  const buttons = networks.map((model) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `Paint it as ${model.name}`;
    button.title = model.description || model.name;
    button.addEventListener("click", () => run(model.name));
    return button;
  });
  const intro = document.createElement("span");
  intro.textContent = "One click, a fraction of a second:";
  box.replaceChildren(intro, ...buttons);
}
