// The playground page: every section wired, then the model list loaded. When the server asks
// for a bearer token (401), the token field appears; the token lives in this tab's memory only.

import { onUnauthorized, setToken } from "./api.js";
import { setupDream } from "./dream.js";
import { setupEdit } from "./edit.js";
import { setupLatent } from "./latent.js";
import { loadModels } from "./models.js";
import { setupSample } from "./sample.js";
import { setupStylize } from "./stylize.js";

function setupAuth() {
  const form = document.getElementById("auth");
  const input = document.getElementById("auth-token");
  onUnauthorized(() => {
    if (form.hidden) {
      form.hidden = false;
      input.focus();
    }
  });
  input.addEventListener("input", () => setToken(input.value));
  input.addEventListener("change", loadModels);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    loadModels();
  });
}

setupAuth();
setupSample();
setupDream();
setupStylize();
setupLatent();
setupEdit();
loadModels();
