// One evaluation: every metric of the tuned checkpoint against the base with its delta, and the
// samples side by side (prompt, reference, both answers, their rewards), filterable and exportable.
import { api, h, number, fill } from "./api.js";

// Metrics where lower is better; for the rest a rise is an improvement.
const LOWER_IS_BETTER = new Set(["perplexity", "loss", "eval_loss"]);

function deltaCell(name, delta) {
  if (typeof delta !== "number") {
    return h("td", { class: "num" }, "—");
  }
  const better = LOWER_IS_BETTER.has(name) ? delta < 0 : delta > 0;
  const sign = delta > 0 ? "+" : "";
  return h("td", { class: `num ${delta === 0 ? "" : better ? "delta-up" : "delta-down"}` }, `${sign}${number(delta)}`);
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export async function evaluationPage(main, jobId, checkpoint) {
  const report = await api(`/v1/fine_tuning/jobs/${encodeURIComponent(jobId)}/evaluations/${encodeURIComponent(checkpoint)}`);
  const metrics = Object.entries(report.metrics || {});
  const samples = report.samples || [];
  const judged = samples.some((s) => typeof s.tunedReward === "number");
  const onlyDiffering = h("input", { type: "checkbox", id: "only-differing" });
  const body = h("tbody", {});
  const count = h("p", { class: "hint", id: "samples-shown" });

  function renderSamples() {
    const shown = onlyDiffering.checked ? samples.filter((s) => s.base !== s.tuned) : samples;
    count.textContent = `${shown.length} of ${samples.length} samples`;
    fill(body,
      ...shown.map((s) =>
        h(
          "tr",
          { dataset: { differs: String(s.base !== s.tuned) } },
          h("td", {}, h("pre", {}, s.prompt)),
          h("td", {}, s.reference === null || s.reference === undefined ? "—" : s.reference),
          h("td", {}, s.base),
          h("td", {}, s.tuned),
          judged ? h("td", { class: "num" }, number(s.baseReward)) : null,
          judged ? h("td", { class: "num" }, number(s.tunedReward)) : null
        )
      )
    );
  }
  onlyDiffering.addEventListener("change", renderSamples);

  const exportJsonl = h(
    "button",
    {
      type: "button",
      class: "secondary",
      id: "export-samples",
      onclick: () =>
        download(`${jobId}-${checkpoint}-samples.jsonl`, samples.map((s) => JSON.stringify(s)).join("\n") + "\n", "application/x-ndjson"),
    },
    "Export samples (JSONL)"
  );

  fill(main,
    h("p", {}, h("a", { href: `#/jobs/${encodeURIComponent(jobId)}` }, `← Job ${jobId}`)),
    h("h1", {}, `Evaluation of ${checkpoint}`),
    h("p", {}, `Against the base ${report.base_model} on the ${report.split} split${report.reward_model ? `, judged by ${report.reward_model}` : ""}.`),
    h(
      "table",
      { id: "metrics-table" },
      h("caption", {}, "Base against tuned"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Metric"), h("th", { scope: "col", class: "num" }, "Base"), h("th", { scope: "col", class: "num" }, "Tuned"), h("th", { scope: "col", class: "num" }, "Change"))),
      h(
        "tbody",
        {},
        metrics.map(([name, v]) =>
          h("tr", { dataset: { metric: name } }, h("th", { scope: "row" }, name), h("td", { class: "num" }, number(v.base)), h("td", { class: "num" }, number(v.tuned)), deltaCell(name, v.delta))
        )
      )
    ),
    h("h2", {}, "Samples"),
    h("div", { class: "row" }, h("label", { for: "only-differing", class: "row" }, onlyDiffering, "Only where the answers differ"), exportJsonl),
    count,
    h(
      "table",
      { id: "samples-table" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...["Prompt", "Reference", "Base answer", "Tuned answer"].map((t) => h("th", { scope: "col" }, t)),
          judged ? h("th", { scope: "col", class: "num" }, "Base reward") : null,
          judged ? h("th", { scope: "col", class: "num" }, "Tuned reward") : null
        )
      ),
      body
    )
  );
  renderSamples();
}
