// New job: method, adapter and their hyper-parameters, with the API's defaults shown. What the API
// refuses comes back with the request field it names (param), and is shown at that field.
import { api, h, announce, fill } from "./api.js";

const METHODS = ["supervised", "dpo", "online_dpo", "ppo", "reward_model", "best_of_n", "self_instruct", "constitutional_ai"];
// Data generators train nothing: no adapter, none of the training settings.
const GENERATORS = new Set(["self_instruct", "constitutional_ai"]);
const ADAPTERS = ["lora", "qlora", "full", "ia3", "prompt", "prefix", "adalora"];
const REWARDED = new Set(["online_dpo", "ppo", "best_of_n"]);

// Hyper-parameters every method takes (OpenAI's names), with the defaults the API applies.
const COMMON = [
  { name: "n_epochs", label: "Epochs", placeholder: "auto (3)", kind: "number" },
  { name: "batch_size", label: "Batch size", placeholder: "auto (8)", kind: "number" },
  { name: "learning_rate_multiplier", label: "Learning-rate multiplier", placeholder: "auto (1)", kind: "number" },
  { name: "max_steps", label: "Max steps", placeholder: "-1 (epochs decide)", kind: "number" },
  { name: "learning_rate", label: "Learning rate (instead of the multiplier)", placeholder: "2e-4 adapters, 2e-5 full", kind: "number" },
  { name: "logging_steps", label: "Logging steps", placeholder: "10", kind: "number" },
];
// Each method's own settings (TRL's names).
const OWN = {
  dpo: [
    { name: "beta", label: "beta", placeholder: "0.1", kind: "number" },
    { name: "loss_type", label: "loss_type", placeholder: "sigmoid", kind: "text" },
  ],
  online_dpo: [
    { name: "beta", label: "beta", placeholder: "0.1", kind: "number" },
    { name: "max_new_tokens", label: "max_new_tokens", placeholder: "64", kind: "number" },
    { name: "judge_model", label: "judge_model (instead of a reward model)", placeholder: "", kind: "text" },
  ],
  ppo: [
    { name: "kl_coef", label: "kl_coef", placeholder: "0.05", kind: "number" },
    { name: "response_length", label: "response_length", placeholder: "53", kind: "number" },
  ],
  best_of_n: [{ name: "n", label: "n (samples per prompt)", placeholder: "4", kind: "number" }],
  self_instruct: [
    { name: "target_count", label: "target_count (tasks to keep)", placeholder: "100", kind: "number" },
    { name: "max_new_tokens", label: "max_new_tokens", placeholder: "256", kind: "number" },
  ],
  constitutional_ai: [
    { name: "batch_size", label: "Batch size", placeholder: "8", kind: "number" },
    { name: "max_new_tokens", label: "max_new_tokens", placeholder: "256", kind: "number" },
  ],
};
const ADAPTER_FIELDS = {
  lora: [
    { name: "r", label: "r", placeholder: "16", kind: "number" },
    { name: "lora_alpha", label: "lora_alpha", placeholder: "32", kind: "number" },
    { name: "lora_dropout", label: "lora_dropout", placeholder: "0.05", kind: "number" },
  ],
  prompt: [{ name: "num_virtual_tokens", label: "num_virtual_tokens", placeholder: "20", kind: "number" }],
  prefix: [{ name: "num_virtual_tokens", label: "num_virtual_tokens", placeholder: "20", kind: "number" }],
  adalora: [
    { name: "init_r", label: "init_r", placeholder: "12", kind: "number" },
    { name: "target_r", label: "target_r", placeholder: "8", kind: "number" },
  ],
};
ADAPTER_FIELDS.qlora = ADAPTER_FIELDS.lora;

function field(spec, param, id) {
  const input = h("input", {
    id,
    name: spec.name,
    type: spec.kind === "number" ? "text" : "text",
    inputmode: spec.kind === "number" ? "decimal" : null,
    placeholder: spec.placeholder,
    dataset: { param, kind: spec.kind },
    "aria-describedby": `${id}-error`,
  });
  return h(
    "label",
    { for: id },
    spec.label,
    input,
    h("span", { class: "field-error", id: `${id}-error`, dataset: { errorFor: param } })
  );
}

function value(input) {
  const text = input.value.trim();
  if (text === "") {
    return undefined;
  }
  if (input.dataset.kind === "number") {
    const n = Number(text);
    return Number.isFinite(n) && text !== "auto" ? n : text; // the API names what is wrong
  }
  return text;
}

export async function newJobPage(main, go) {
  const [files, models] = await Promise.all([api("/v1/files"), api("/v1/models")]);
  const bases = models.data.filter((m) => !m.id.startsWith("ft:"));
  const general = h("div", { class: "error", role: "alert", id: "form-error" });
  const options = (values, selected) => values.map((v) => h("option", { value: v, selected: v === selected }, v));
  const fileOptions = files.data.map((f) => h("option", { value: f.id }, `${f.filename} (${f.id})`));

  const model = h("input", { id: "job-model", name: "model", list: "base-models", required: true, dataset: { param: "model" }, value: bases.length ? bases[0].id : "" });
  const training = h("select", { id: "job-training-file", name: "training_file", dataset: { param: "training_file" } }, fileOptions);
  const validation = h(
    "select",
    { id: "job-validation-file", name: "validation_file", dataset: { param: "validation_file" } },
    h("option", { value: "" }, "none (a split of the training file)"),
    files.data.map((f) => h("option", { value: f.id }, `${f.filename} (${f.id})`))
  );
  const suffix = h("input", { id: "job-suffix", name: "suffix", dataset: { param: "suffix" }, placeholder: "up to 64 letters, digits, - and _" });
  const method = h("select", { id: "job-method", name: "method", dataset: { param: "method.type" } }, options(METHODS, "supervised"));
  const adapter = h("select", { id: "job-adapter", name: "adapter", dataset: { param: "adapter.type" } }, options(ADAPTERS, "lora"));
  const rewardModel = h("input", { id: "job-reward-model", name: "reward_model", placeholder: "served by reward-service" });
  const hyper = h("fieldset", { id: "job-hyperparameters" });
  const adapterBox = h("fieldset", { id: "job-adapter-settings" });

  const labelled = (id, text, input) =>
    h("label", { for: id }, text, input, h("span", { class: "field-error", id: `${id}-error`, dataset: { errorFor: input.dataset.param || "" } }));

  function renderFields() {
    const type = method.value;
    const path = `method.${type}.hyperparameters`;
    rewardModel.dataset.param = `${path}.reward_model`;
    fill(hyper,
      h("legend", {}, `Hyper-parameters (${type})`),
      ...(GENERATORS.has(type) ? [] : COMMON).map((f) => field(f, `${path}.${f.name}`, `hp-${f.name}`)),
      ...(OWN[type] || []).map((f) => field(f, `${path}.${f.name}`, `hp-${f.name}`)),
      REWARDED.has(type) ? labelled("job-reward-model", "reward_model", rewardModel) : null
    );
    const fields = GENERATORS.has(type) ? [] : ADAPTER_FIELDS[adapter.value] || [];
    adapter.disabled = GENERATORS.has(type);
    adapterBox.hidden = fields.length === 0;
    fill(adapterBox,
      h("legend", {}, `Adapter settings (${adapter.value})`),
      ...fields.map((f) => field(f, `adapter.${f.name}`, `ad-${f.name}`))
    );
  }
  method.addEventListener("change", renderFields);
  adapter.addEventListener("change", renderFields);

  function clearErrors(form) {
    general.textContent = "";
    for (const el of form.querySelectorAll("[aria-invalid]")) {
      el.removeAttribute("aria-invalid");
    }
    for (const el of form.querySelectorAll(".field-error")) {
      el.textContent = "";
    }
  }

  function showError(form, error) {
    const input = error.param ? [...form.querySelectorAll("[data-param]")].find((el) => el.dataset.param === error.param) : null;
    if (!input) {
      general.textContent = error.param ? `${error.param}: ${error.message}` : error.message;
      return;
    }
    input.setAttribute("aria-invalid", "true");
    const slot = form.querySelector(`#${CSS.escape(input.id)}-error`);
    if (slot) {
      slot.textContent = error.message;
    }
    input.focus();
  }

  const form = h(
    "form",
    {
      class: "stack",
      id: "new-job-form",
      novalidate: true,
      onsubmit: async (event) => {
        event.preventDefault();
        clearErrors(form);
        const type = method.value;
        const hyperparameters = {};
        for (const input of hyper.querySelectorAll("input")) {
          const v = value(input);
          if (v !== undefined) {
            hyperparameters[input.name] = v;
          }
        }
        const adapterSettings = { type: adapter.value };
        for (const input of adapterBox.querySelectorAll("input")) {
          const v = value(input);
          if (v !== undefined) {
            adapterSettings[input.name] = v;
          }
        }
        const body = {
          model: model.value.trim(),
          training_file: training.value,
          method: { type, [type]: { hyperparameters } },
        };
        if (!GENERATORS.has(type)) {
          body.adapter = adapterSettings;
        }
        if (validation.value) {
          body.validation_file = validation.value;
        }
        if (suffix.value.trim()) {
          body.suffix = suffix.value.trim();
        }
        try {
          const job = await api("/v1/fine_tuning/jobs", { method: "POST", body });
          announce(`Created ${job.id}`);
          go(`#/jobs/${encodeURIComponent(job.id)}`);
        } catch (e) {
          showError(form, e);
        }
      },
    },
    general,
    labelled("job-model", "Base model", model),
    h("datalist", { id: "base-models" }, bases.map((m) => h("option", { value: m.id }))),
    labelled("job-training-file", "Training file", training),
    labelled("job-validation-file", "Validation file", validation),
    labelled("job-suffix", "Suffix", suffix),
    labelled("job-method", "Method", method),
    labelled("job-adapter", "Adapter", adapter),
    hyper,
    adapterBox,
    h("p", { class: "hint" }, "Empty fields take the defaults shown; every setting of the API is available through /v1/fine_tuning/jobs."),
    h("button", { type: "submit", id: "create-job" }, "Create job")
  );
  renderFields();
  fill(main, h("h1", {}, "New fine-tuning job"), files.data.length ? form : h("p", {}, "Upload a training file first (Files)."));
}
