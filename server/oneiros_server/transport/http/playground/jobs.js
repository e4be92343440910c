// Dream and Stylize: one image job streamed as progress events (POST /v1/dream/stream,
// /v1/stylize/stream): a progress bar with the step and the loss, the newest preview, Cancel,
// and the result with a download link.

import { call, clearErrors, events, imageUrl, showError } from "./api.js";

const PREVIEWS = 12; // about this many previews per job

/** How often to ask for a preview so that a job of `steps` steps sends about PREVIEWS of them. */
export function previewEvery(steps) {
  return Math.max(1, Math.round(steps / PREVIEWS));
}

/** A form field, unless the value is empty (the server's default then applies). */
export function put(form, name, value) {
  if (value !== undefined && value !== null && String(value).trim() !== "") form.append(name, String(value));
}

/** The job UI of section `name` ("dream", "stylize"): elements `<name>-run`, `-cancel`, `-progress`, ... */
export class JobPanel {
  constructor(name, path, filename) {
    this.name = name;
    this.path = path;
    this.filename = filename;
    this.section = document.getElementById(name);
    this.element = (suffix) => document.getElementById(`${name}-${suffix}`);
    this.controller = null;
    this.element("cancel").addEventListener("click", () => this.controller?.abort());
  }

  /** Run the job whose multipart body `buildForm()` makes (async: it may read files). */
  async run(buildForm) {
    const [bar, status, preview, result] = ["progress", "status", "preview", "result"].map(this.element);
    clearErrors(this.section);
    this.controller = new AbortController();
    this.setRunning(true);
    bar.removeAttribute("value"); // indeterminate until the first event
    status.classList.remove("done");
    status.textContent = "Sending the pictures…";
    for (const img of [preview, result]) show(img, false);
    const started = performance.now();
    try {
      const form = await buildForm();
      status.textContent = "Working: waiting for the first step…";
      const response = await call(this.path, { form, accept: "text/event-stream", signal: this.controller.signal });
      let finished = false;
      for await (const message of events(response)) {
        if (message.progress) this.progress(message.progress);
        if (message.result) finished = this.finish(message.result, started);
      }
      if (!finished) throw new Error("the server closed the stream before the result");
    } catch (error) {
      bar.value = 0;
      if (error.name === "AbortError") status.textContent = "Cancelled: the server stopped the work.";
      else {
        status.textContent = "";
        showError(this.section, error);
      }
    } finally {
      this.controller = null;
      this.setRunning(false);
    }
  }

  progress(p) {
    const bar = this.element("progress");
    bar.max = p.totalSteps || 1;
    bar.value = p.step || 0;
    const octave = this.name === "dream" ? ` · octave ${(p.octave || 0) + 1}` : "";
    this.element("status").textContent = `Step ${p.step || 0} of ${p.totalSteps || "?"}${octave} · loss ${formatLoss(p.loss)}`;
    if (p.preview) {
      const preview = this.element("preview");
      preview.src = imageUrl(p.preview);
      show(preview, true);
    }
  }

  finish(result, started) {
    const bar = this.element("progress");
    bar.max = 1;
    bar.value = 1;
    const image = this.element("result");
    image.src = imageUrl(result.image);
    show(image, true);
    const download = this.element("download");
    download.href = image.src;
    download.download = this.filename;
    const seconds = ((result.elapsedMs || performance.now() - started) / 1000).toFixed(1);
    const losses = result.lossHistory || [];
    const status = this.element("status");
    status.textContent = `Done in ${seconds} s` + (losses.length ? ` · final loss ${formatLoss(losses.at(-1))}` : "");
    status.classList.add("done");
    return true;
  }

  setRunning(running) {
    this.element("run").disabled = running;
    this.element("cancel").disabled = !running;
    this.section.setAttribute("aria-busy", String(running));
  }
}

function show(img, visible) {
  img.hidden = !visible;
  const caption = img.parentElement.querySelector("figcaption");
  if (caption) caption.hidden = !visible;
}

function formatLoss(loss) {
  if (loss === undefined) return "0";
  return Math.abs(loss) >= 1000 || (Math.abs(loss) < 0.01 && loss !== 0) ? loss.toExponential(3) : loss.toFixed(3);
}
