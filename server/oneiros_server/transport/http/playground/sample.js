// The Text section: POST /v1/sample/stream, character by character; Stop; the chapter's
// temperature experiment (one prompt and seed at several temperatures, side by side).

import { call, clearErrors, events, number, showError } from "./api.js";
import { fillSelect, onModels } from "./models.js";

const TEMPERATURES = [0.2, 0.5, 1.0, 1.2];
const COMPARE_LENGTH = 300; // characters per temperature, at most
const $ = (id) => document.getElementById(id);

/** Wire the section's controls. */
export function setupSample() {
  const section = $("sample");
  const output = $("sample-output");
  const stats = $("sample-stats");
  const compare = $("sample-compare-out");
  const range = $("sample-temperature-range");
  const temperature = $("sample-temperature");
  let controller = null;

  range.addEventListener("input", () => (temperature.value = range.value));
  temperature.addEventListener("input", () => (range.value = temperature.value));
  onModels((models) => fillSelect($("sample-model"), models, (m) => m.kind === "LANGUAGE_MODEL", "Sample"));

  function request(overrides = {}) {
    return {
      model: $("sample-model").value,
      prompt: $("sample-prompt").value,
      temperature: number(temperature),
      max_tokens: number($("sample-max-tokens")),
      seed: number($("sample-seed")),
      top_k: number($("sample-top-k")),
      top_p: number($("sample-top-p")),
      ...overrides,
    };
  }

  /** Stream one completion of `body` into `box`; `onEnd(lastChunk)` runs once it is all drawn. */
  async function stream(body, box, onEnd, signal) {
    const text = new StreamedText(box);
    try {
      const response = await call("/v1/sample/stream", { json: body, accept: "text/event-stream", signal });
      for await (const chunk of events(response)) {
        if (chunk.text) text.add(chunk.text);
        if (chunk.finishReason) {
          text.flush();
          onEnd(chunk);
          return;
        }
      }
      throw new Error("the server closed the stream before the end of the text");
    } finally {
      text.flush();
    }
  }

  async function run(work) {
    clearErrors(section);
    controller = new AbortController();
    setRunning(true);
    try {
      await work(controller.signal);
    } catch (error) {
      if (error.name === "AbortError") stats.textContent = "Stopped: the server stopped generating.";
      else showError(section, error);
    } finally {
      controller = null;
      setRunning(false);
    }
  }

  function setRunning(running) {
    $("sample-run").disabled = running;
    $("sample-compare").disabled = running;
    $("sample-stop").disabled = !running;
    section.setAttribute("aria-busy", String(running));
  }

  $("sample-form").addEventListener("submit", (event) => {
    event.preventDefault();
    compare.hidden = true;
    output.hidden = false;
    stats.textContent = "Generating…";
    stats.classList.remove("done");
    run((signal) =>
      stream(request(), output, (end) => {
        stats.textContent = `${end.tokenCount} characters · mean entropy ${(end.meanEntropyBits || 0).toFixed(3)} bits · ended by ${end.finishReason.toLowerCase()}`;
        stats.classList.add("done");
      }, signal),
    );
  });

  const compareLength = () => Math.min(number($("sample-max-tokens")) ?? COMPARE_LENGTH, COMPARE_LENGTH);

  $("sample-stop").addEventListener("click", () => controller?.abort());

  $("sample-compare").addEventListener("click", () => {
    const seed = number($("sample-seed")) ?? Math.floor(Math.random() * 1e6);
    output.hidden = true;
    compare.hidden = false;
    stats.classList.remove("done");
    stats.textContent = `The same prompt and seed (${seed}) at ${TEMPERATURES.length} temperatures…`;
    const columns = TEMPERATURES.map((t) => column(t));
    compare.replaceChildren(...columns.map((c) => c.article));
    run(async (signal) => {
      await Promise.all(
        columns.map((c) =>
          stream(request({ temperature: c.temperature, seed, max_tokens: compareLength() }), c.text, (end) => {
            c.figure.textContent = `mean entropy ${(end.meanEntropyBits || 0).toFixed(3)} bits per character`;
          }, signal),
        ),
      );
      stats.textContent = `Seed ${seed}: entropy rises with temperature, and so does invention.`;
      stats.classList.add("done");
    });
  });
}

/**
 * Text streaming into `box`: the pieces are joined and drawn once per frame (a fast stream never
 * floods the page), with the newest line kept in view.
 */
class StreamedText {
  constructor(box) {
    this.box = box;
    this.node = document.createTextNode("");
    box.replaceChildren(this.node);
    this.pending = "";
    this.frame = 0;
  }

  add(text) {
    this.pending += text;
    this.frame ||= requestAnimationFrame(() => this.flush());
  }

  /** Draw what is pending now. */
  flush() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    if (!this.pending) return;
    const box = this.box;
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    this.node.appendData(this.pending);
    this.pending = "";
    if (atEnd) box.scrollTop = box.scrollHeight;
  }
}

function column(temperature) {
  const article = document.createElement("article");
  const title = document.createElement("h4");
  title.textContent = `temperature ${temperature}`;
  const text = document.createElement("pre");
  const figure = document.createElement("p");
  article.append(title, text, figure);
  return { temperature, article, text, figure };
}
