// Where a section's input picture comes from: an uploaded file or one of the bundled pictures
// (served beside this page under /playground/samples/), or anything else set by `use`.

const BUNDLED = {
  photos: [["chelsea.jpg", "Chelsea the cat"], ["coffee.jpg", "A cup of coffee"], ["astronaut.jpg", "Eileen Collins, astronaut"]],
  paintings: [["starry-night.jpg", "Van Gogh, The Starry Night"], ["the-scream.jpg", "Munch, The Scream"],
    ["shipwreck.jpg", "Turner, The Shipwreck"]],
  digits: [["digit-a.png", "A handwritten 0"], ["digit-b.png", "A handwritten 1"]],
};

/**
 * A picture source: `input` (a file input) or one of the bundled pictures named by
 * `picks.dataset.picks`, drawn into `picks` (the `first` of them chosen at the start); `note`
 * says which is in use and `view` (an img, optional) shows it. `changed()` runs after every new choice.
 */
export class PictureSource {
  constructor(input, picks, note, { changed = () => {}, first = 0, view = null } = {}) {
    this.input = input;
    this.note = note;
    this.view = view;
    this.changed = changed;
    this.buttons = [];
    const set = picks.dataset.picks;
    picks.classList.add(set);
    for (const [file, title] of BUNDLED[set]) {
      const button = document.createElement("button");
      button.type = "button";
      button.title = title;
      button.setAttribute("aria-label", `Use ${title}`);
      button.setAttribute("aria-pressed", "false");
      const thumbnail = document.createElement("img");
      thumbnail.src = `/playground/samples/${file}`;
      thumbnail.alt = "";
      button.append(thumbnail);
      button.addEventListener("click", () => this.pickBundled(file, title, button));
      picks.append(button);
      this.buttons.push(button);
    }
    input.addEventListener("change", () => {
      const file = input.files[0];
      if (file) this.use(async () => file, `your file ${file.name}`, true, URL.createObjectURL(file));
    });
    const [file, title] = BUNDLED[set][first];
    this.pickBundled(file, title, this.buttons[first], false);
  }

  pickBundled(file, title, button, notify = true) {
    this.input.value = "";
    this.use(() => bundled(file), title, notify, `/playground/samples/${file}`);
    button.setAttribute("aria-pressed", "true");
  }

  /** Make `load()` (an async function returning a Blob) the source, described as `label`, shown from `url`. */
  use(load, label, notify = true, url = "") {
    this.load = load;
    this.name = label;
    if (this.view && url) {
      if (this.view.src.startsWith("blob:")) URL.revokeObjectURL(this.view.src);
      this.view.src = url;
      this.view.hidden = false;
    }
    this.buttons.forEach((b) => b.setAttribute("aria-pressed", "false"));
    this.note.textContent = `Using: ${label}`;
    if (notify) this.changed();
  }

  /** The picture as a Blob (a File for uploads). */
  blob() {
    return this.load();
  }
}

const cache = new Map();

async function bundled(file) {
  if (!cache.has(file)) {
    const response = await fetch(`/playground/samples/${file}`);
    if (!response.ok) throw new Error(`the bundled picture ${file} is missing`);
    cache.set(file, await response.blob());
  }
  return cache.get(file);
}
