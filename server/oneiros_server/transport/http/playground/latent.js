// Latent spaces, decoding: the 2-D plane (the latent grid, and the point under the pointer
// decoded as it moves) and samples from the prior (POST /v1/decode, answered as PNG).

import { call, clearErrors, latestOnly, number, showError } from "./api.js";
import { fillSelect, onModels } from "./models.js";

const $ = (id) => document.getElementById(id);
const EXTENT = 2; // the plane covers [-EXTENT, EXTENT] on both axes (grid cell centres)

/** A PNG answer as an object URL for `img` (the previous one is released). */
export async function showPng(img, response) {
  const url = URL.createObjectURL(await response.blob());
  if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
  img.src = url;
  img.hidden = false;
}

/** Wire the plane and the prior samples. */
export function setupLatent() {
  setupPlane();
  setupPrior();
}

function setupPlane() {
  const panel = $("plane-panel");
  const plane = $("decode-plane");
  const select = $("plane-model");
  const marker = plane.querySelector(".marker");
  const steps = () => Number($("plane-steps").value);
  let point = [0, 0];

  onModels((models) => {
    fillSelect(select, models, (m) => m.kind === "VAE" && m.latentSize === 2, "Decode");
    if (select.disabled) $("plane-point").textContent = "No VAE with a 2-D latent space is served.";
  });
  const drawGrid = async () => {
    if (!select.value) return;
    clearErrors(panel);
    const grid = { axis_x: 0, axis_y: 1, steps: steps(), extent: EXTENT };
    try {
      await showPng($("plane-grid"), await call("/v1/decode", { json: { model: select.value, grid }, accept: "image/png" }));
    } catch (error) {
      showError(panel, error);
    }
  };
  select.addEventListener("change", drawGrid);
  $("plane-steps").addEventListener("change", drawGrid);

  const decode = latestOnly(async ([x, y]) => {
    clearErrors(panel);
    try {
      const body = { model: select.value, latents: [{ values: [x, y] }] };
      await showPng($("decode-result"), await call("/v1/decode", { json: body, accept: "image/png" }));
      $("plane-point").textContent = `z = (${x.toFixed(2)}, ${y.toFixed(2)})`;
    } catch (error) {
      showError(panel, error);
    }
  });

  // Plane fractions (u right, v down, 0..1 over the picture) <-> latent coordinates.
  const cell = () => (2 * EXTENT) / (steps() - 1);
  const toLatent = (u, v) => [-EXTENT + (u * steps() - 0.5) * cell(), EXTENT - (v * steps() - 0.5) * cell()];
  const toPlane = ([x, y]) => [((x + EXTENT) / cell() + 0.5) / steps(), ((EXTENT - y) / cell() + 0.5) / steps()];
  const moveTo = (latent) => {
    point = latent;
    const [u, v] = toPlane(latent);
    marker.style.left = `${u * 100}%`;
    marker.style.top = `${v * 100}%`;
    marker.hidden = false;
    decode(latent);
  };
  const fromPointer = (event) => {
    const rect = plane.getBoundingClientRect();
    const clamp = (t) => Math.min(1, Math.max(0, t));
    moveTo(toLatent(clamp((event.clientX - rect.left) / rect.width), clamp((event.clientY - rect.top) / rect.height)));
  };
  plane.addEventListener("pointerdown", (event) => {
    plane.setPointerCapture(event.pointerId);
    fromPointer(event);
  });
  plane.addEventListener("pointermove", (event) => {
    if (plane.hasPointerCapture(event.pointerId)) fromPointer(event);
  });
  plane.addEventListener("keydown", (event) => {
    const step = cell() / 2;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const limit = EXTENT + cell() / 2;
    const clamp = (t) => Math.min(limit, Math.max(-limit, t));
    moveTo([clamp(point[0] + moves[event.key][0]), clamp(point[1] + moves[event.key][1])]);
  });
}

function setupPrior() {
  const panel = $("prior-panel");
  onModels((models) => fillSelect($("prior-model"), models, (m) => m.kind === "VAE" || m.kind === "GAN", "Decode"));
  $("prior-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(panel);
    const body = { model: $("prior-model").value, count: number($("prior-count")), seed: number($("prior-seed")) };
    try {
      await showPng($("prior-result"), await call("/v1/decode", { json: body, accept: "image/png" }));
    } catch (error) {
      showError(panel, error);
    }
  });
}
