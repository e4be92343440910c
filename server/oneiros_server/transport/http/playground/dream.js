// The Dream section: a photo, the model, its layers and the main parameters -> DreamStream.

import { number } from "./api.js";
import { JobPanel, previewEvery, put } from "./jobs.js";
import { fillSelect, onModels } from "./models.js";
import { PictureSource } from "./pictures.js";

const $ = (id) => document.getElementById(id);

/** Wire the section's controls. */
export function setupDream() {
  const picks = document.querySelector("[data-target=dream]");
  const source = new PictureSource($("dream-image"), picks, $("dream-source"), { view: $("dream-input") });
  const panel = new JobPanel("dream", "/v1/dream/stream", "dream.png");
  let models = [];

  onModels((all) => {
    models = all;
    fillSelect($("dream-model"), all, (m) => m.kind === "CONVNET", "Dream");
  });
  $("dream-model").addEventListener("change", () => {
    const model = models.find((m) => m.name === $("dream-model").value);
    const defaults = model?.defaultParameters?.dream || {};
    layerChecks(model?.layers || [], Object.keys(defaults.layer_weights || {}));
  });

  $("dream-form").addEventListener("submit", (event) => {
    event.preventDefault();
    panel.run(async () => {
      const form = new FormData();
      const picture = await source.blob();
      form.append("image", picture, picture.name || "photo.jpg");
      put(form, "model", $("dream-model").value);
      const octaves = number($("dream-octaves"));
      const steps = number($("dream-steps"));
      put(form, "octaves", octaves);
      put(form, "steps_per_octave", steps);
      put(form, "step_size", number($("dream-step-size")));
      put(form, "max_side", number($("dream-max-side")));
      put(form, "seed", number($("dream-seed")));
      put(form, "preview_every", previewEvery((octaves || 3) * (steps || 20)));
      const layers = [...document.querySelectorAll("#dream-layers input:checked")].map((c) => c.value);
      if (layers.length) put(form, "layer_weights", JSON.stringify(Object.fromEntries(layers.map((l) => [l, 1]))));
      return form;
    });
  });
}

function layerChecks(layers, checked) {
  const box = $("dream-layers");
  const summarise = () => {
    const chosen = [...box.querySelectorAll("input:checked")].map((c) => c.value);
    $("dream-layers-chosen").textContent = chosen.length ? chosen.join(", ") : "the model's default";
  };
  box.onchange = summarise;
  box.replaceChildren(
    ...layers
      .filter((name) => name.includes("conv"))
      .map((name) => {
        const label = document.createElement("label");
        const check = document.createElement("input");
        check.type = "checkbox";
        check.value = name;
        check.checked = checked.includes(name);
        label.append(check, ` ${name}`);
        return label;
      }),
  );
  summarise();
}
