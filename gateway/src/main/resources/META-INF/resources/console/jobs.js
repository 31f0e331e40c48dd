// Jobs: the list with status, progress and ETA; one job with live charts, its events, checkpoints,
// evaluations and cancel. Live means polling the events endpoint: no reload, no extra API.
import { api, listAll, h, announce, when, number, fill } from "./api.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 2000;

function badge(status) {
  return h("span", { class: `badge ${status}`, dataset: { status } }, status);
}

function eta(job) {
  if (!job.estimated_finish || TERMINAL.has(job.status)) {
    return "";
  }
  const left = Math.max(0, job.estimated_finish - Date.now() / 1000);
  return left < 60 ? `${Math.round(left)} s` : `${Math.round(left / 60)} min`;
}

/** The newest progress figures of a job, from its newest metrics event. */
async function latestProgress(job) {
  const events = (await api(`/v1/fine_tuning/jobs/${encodeURIComponent(job.id)}/events?limit=10`)).data;
  const metrics = events.find((e) => e.type === "metrics" && e.data && e.data.total_steps);
  return metrics ? metrics.data : null;
}

export async function jobsPage(main, isCurrent) {
  const table = h("div", { id: "jobs-list" });
  fill(main,
    h("h1", {}, "Fine-tuning jobs"),
    h("p", {}, h("a", { href: "#/jobs/new" }, "Create a job")),
    table
  );
  async function refresh() {
    const jobs = await listAll("/v1/fine_tuning/jobs");
    if (jobs.length === 0) {
      fill(table, h("p", {}, "No jobs yet."));
      return;
    }
    const rows = await Promise.all(
      jobs.map(async (job) => {
        const progress = TERMINAL.has(job.status) ? null : await latestProgress(job).catch(() => null);
        const percent = job.status === "succeeded" ? 100 : progress ? progress.percent_done || 0 : 0;
        return h(
          "tr",
          { dataset: { jobId: job.id } },
          h("td", {}, h("a", { href: `#/jobs/${encodeURIComponent(job.id)}` }, job.id)),
          h("td", {}, job.model),
          h("td", {}, job.method ? job.method.type : ""),
          h("td", {}, badge(job.status)),
          h(
            "td",
            {},
            h("progress", { max: 100, value: percent, "aria-label": `Progress of ${job.id}` }),
            ` ${Math.round(percent)}%`
          ),
          h("td", {}, eta(job)),
          h("td", {}, when(job.created_at))
        );
      })
    );
    fill(table,
      h(
        "table",
        { id: "jobs-table" },
        h("caption", { class: "visually-hidden" }, "Your fine-tuning jobs"),
        h(
          "thead",
          {},
          h("tr", {}, ...["Job", "Model", "Method", "Status", "Progress", "ETA", "Created"].map((t) => h("th", { scope: "col" }, t)))
        ),
        h("tbody", {}, rows)
      )
    );
    if (jobs.some((j) => !TERMINAL.has(j.status)) && isCurrent()) {
      setTimeout(() => isCurrent() && refresh().catch(() => {}), POLL_MS * 2);
    }
  }
  await refresh();
}

/** Which chart a figure goes on: the loss pair together, each other family by its prefix. */
function chartOf(name) {
  if (name === "train_loss" || name === "valid_loss") {
    return "loss";
  }
  if (name === "learning_rate" || name === "grad_norm" || name === "tokens_per_second") {
    return name;
  }
  const slash = name.indexOf("/");
  return slash > 0 ? name.slice(0, slash) : null;
}

const SKIPPED = new Set(["step", "total_steps", "percent_done", "eta_seconds"]);
const COLOURS = ["#0b5cad", "#c2410c", "#1a7f37", "#8250df", "#b42318", "#57606a", "#bf8700"];

/** One uPlot chart per figure family, redrawn as points arrive. */
class Charts {
  constructor(container) {
    this.container = container;
    this.plots = new Map();
  }

  update(events) {
    const progress = events
      .filter((e) => e.type === "metrics" && e.data && e.data.step !== undefined && e.data.total_steps !== undefined)
      .sort((a, b) => a.data.step - b.data.step);
    const families = new Map();
    for (const event of progress) {
      for (const [name, value] of Object.entries(event.data)) {
        const family = SKIPPED.has(name) || typeof value !== "number" ? null : chartOf(name);
        if (family) {
          if (!families.has(family)) {
            families.set(family, new Set());
          }
          families.get(family).add(name);
        }
      }
    }
    for (const [family, names] of families) {
      const series = [...names].sort();
      const xs = progress.filter((e) => series.some((n) => typeof e.data[n] === "number")).map((e) => e.data.step);
      const data = [xs];
      for (const name of series) {
        data.push(
          progress
            .filter((e) => series.some((n) => typeof e.data[n] === "number"))
            .map((e) => (typeof e.data[name] === "number" ? e.data[name] : null))
        );
      }
      this.draw(family, series, data);
    }
  }

  draw(family, series, data) {
    let entry = this.plots.get(family);
    const key = series.join(",");
    if (entry && entry.key !== key) {
      entry.plot.destroy();
      entry.box.remove();
      entry = null;
    }
    if (!entry) {
      const box = h("figure", { class: "chart", dataset: { chart: family } }, h("h3", {}, family.replace(/_/g, " ")));
      this.container.append(box);
      const width = Math.max(260, box.clientWidth - 16);
      const plot = new window.uPlot(
        {
          width,
          height: 220,
          scales: { x: { time: false } },
          axes: [{ label: "step" }, { size: 64 }],
          series: [{ label: "step" }, ...series.map((name, i) => ({ label: name, stroke: COLOURS[i % COLOURS.length], spanGaps: true }))],
        },
        data,
        box
      );
      entry = { plot, box, key };
      this.plots.set(family, entry);
    } else {
      entry.plot.setData(data);
    }
    entry.box.dataset.points = String(data[0].length);
    entry.box.setAttribute("aria-label", `${family}: ${data[0].length} points, last step ${data[0][data[0].length - 1]}`);
  }

  destroy() {
    for (const entry of this.plots.values()) {
      entry.plot.destroy();
    }
  }
}

/** A labelled list of counts as a row of horizontal bars, widest = largest. */
function bars(title, counts, id) {
  const entries = Object.entries(counts || {});
  if (entries.length === 0) {
    return null;
  }
  const most = Math.max(...entries.map(([, n]) => n));
  return h(
    "figure",
    { class: "chart", id },
    h("h3", {}, title),
    h(
      "table",
      {},
      h(
        "tbody",
        {},
        entries.map(([name, n]) =>
          h(
            "tr",
            { dataset: { bucket: name } },
            h("th", { scope: "row" }, name),
            h("td", { class: "num" }, String(n)),
            h("td", { style: "width: 60%" }, h("span", { class: "bar", style: `width: ${Math.max(1, (100 * n) / most)}%`, "aria-hidden": "true" }))
          )
        )
      )
    )
  );
}

/** The prepared dataset's statistics, once data-service committed them. */
async function renderDataset(section, id) {
  let stats;
  try {
    stats = await api(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/dataset`);
  } catch (e) {
    if (e.status === 404) {
      fill(section, h("h2", {}, "Dataset"), h("p", {}, "Not prepared yet."));
      return false;
    }
    throw e;
  }
  const t = stats.tokens || {};
  const dropped = Object.entries(stats.dropped || {});
  fill(
    section,
    h("h2", {}, "Dataset"),
    h(
      "dl",
      { class: "facts", id: "dataset-facts" },
      h("dt", {}, "Records in"),
      h("dd", {}, String(stats.input_records)),
      h("dt", {}, "Splits"),
      h("dd", {}, Object.entries(stats.splits || {}).map(([k, v]) => `${k} ${v}`).join(", ")),
      h("dt", {}, "Tokens per record"),
      h("dd", {}, `min ${t.min}, median ${t.median}, p95 ${t.p95}, max ${t.max}, mean ${number(t.mean, 1)} (${t.total} in all)`),
      h("dt", {}, "Duplicates removed"),
      h("dd", {}, `${stats.exact_duplicates_removed} exact, ${stats.near_duplicates_removed} near`),
      h("dt", {}, "Dropped"),
      h("dd", { id: "dataset-dropped" }, dropped.length ? dropped.map(([k, v]) => `${k}: ${v}`).join(", ") : "none"),
      stats.mean_turns ? [h("dt", {}, "Mean turns"), h("dd", {}, number(stats.mean_turns, 2))] : null
    ),
    h(
      "div",
      { class: "charts" },
      bars("Token lengths", stats.token_histogram, "dataset-histogram"),
      bars("Roles", stats.roles, "dataset-roles"),
      bars("Labels", stats.labels, "dataset-labels")
    )
  );
  return true;
}

export async function jobPage(main, id, isCurrent) {
  const header = h("section", { id: "job-header" });
  const dataset = h("section", { id: "job-dataset" });
  let datasetShown = false;
  const charts = h("div", { class: "charts", id: "job-charts" });
  const evaluations = h("section", { id: "job-evaluations" });
  const checkpoints = h("section", { id: "job-checkpoints" });
  const log = h("section", { id: "job-events" });
  fill(main, h("h1", {}, `Job ${id}`), header, dataset, h("h2", {}, "Training curves"), charts, evaluations, checkpoints, log);
  const plot = new Charts(charts);
  const events = new Map();

  async function newEvents() {
    let after = null;
    for (;;) {
      const page = await api(
        `/v1/fine_tuning/jobs/${encodeURIComponent(id)}/events?limit=100${after ? `&after=${encodeURIComponent(after)}` : ""}`
      );
      let seen = false;
      for (const event of page.data) {
        if (events.has(event.id)) {
          seen = true;
          break;
        }
        events.set(event.id, event);
      }
      if (seen || !page.has_more || page.data.length === 0) {
        return;
      }
      after = page.data[page.data.length - 1].id;
    }
  }

  function renderHeader(job) {
    const cancel = TERMINAL.has(job.status)
      ? null
      : h(
          "button",
          {
            type: "button",
            class: "danger",
            id: "cancel-job",
            onclick: async () => {
              if (!confirm(`Cancel job ${id}?`)) {
                return;
              }
              await api(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/cancel`, { method: "POST" });
              announce(`Cancel requested for ${id}`);
            },
          },
          "Cancel job"
        );
    fill(header,
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Status"),
        h("dd", { id: "job-status" }, badge(job.status), job.tuneforge_status ? ` (${job.tuneforge_status})` : ""),
        h("dt", {}, "Model"),
        h("dd", {}, job.model),
        h("dt", {}, "Method"),
        h("dd", {}, job.method ? job.method.type : ""),
        h("dt", {}, "ETA"),
        h("dd", {}, eta(job) || "—"),
        job.fine_tuned_model ? [h("dt", {}, "Fine-tuned model"), h("dd", {}, h("code", { id: "fine-tuned-model" }, job.fine_tuned_model))] : null
      ),
      job.error && job.error.message ? h("p", { class: "error", role: "alert" }, job.error.message) : null,
      cancel
    );
  }

  function renderLog() {
    const newestFirst = [...events.values()].sort((a, b) => b.created_at - a.created_at);
    fill(log,
      h("h2", {}, "Events"),
      h(
        "ol",
        { id: "events-log", reversed: true },
        newestFirst.slice(0, 200).map((e) => h("li", { class: e.level }, `${when(e.created_at)} — ${e.message}`))
      )
    );
  }

  async function renderCheckpoints() {
    const list = (await api(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/checkpoints?limit=100`)).data;
    fill(checkpoints,
      h("h2", {}, "Checkpoints"),
      list.length === 0
        ? h("p", {}, "None yet.")
        : h(
            "table",
            { id: "checkpoints-table" },
            h("thead", {}, h("tr", {}, ...["Step", "Checkpoint model", "Metrics", "Saved"].map((t) => h("th", { scope: "col" }, t)))),
            h(
              "tbody",
              {},
              list.map((c) =>
                h(
                  "tr",
                  {},
                  h("td", { class: "num" }, String(c.step_number)),
                  h("td", {}, h("code", {}, c.fine_tuned_model_checkpoint || c.id)),
                  h("td", {}, Object.entries(c.metrics || {}).map(([k, v]) => `${k} ${number(v)}`).join(", ")),
                  h("td", {}, when(c.created_at))
                )
              )
            )
          )
    );
  }

  async function renderEvaluations() {
    const list = (await api(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}/evaluations`)).data;
    fill(evaluations,
      h("h2", {}, "Evaluations"),
      list.length === 0
        ? h("p", {}, "None yet: the final checkpoint is evaluated against the base when training ends.")
        : h(
            "ul",
            { id: "evaluations-list" },
            list.map((e) =>
              h(
                "li",
                {},
                h(
                  "a",
                  { href: `#/jobs/${encodeURIComponent(id)}/evaluations/${encodeURIComponent(e.checkpoint_id)}` },
                  `${e.checkpoint_id} against ${e.base_model} (${e.split} split)`
                )
              )
            )
          )
    );
  }

  async function poll() {
    if (!isCurrent()) {
      plot.destroy();
      return;
    }
    try {
      const job = await api(`/v1/fine_tuning/jobs/${encodeURIComponent(id)}`);
      await newEvents();
      renderHeader(job);
      if (!datasetShown) {
        datasetShown = await renderDataset(dataset, id);
      }
      plot.update([...events.values()]);
      renderLog();
      await renderCheckpoints();
      await renderEvaluations();
      if (TERMINAL.has(job.status) && job.status !== "succeeded") {
        return;
      }
      const evaluated = evaluations.querySelector("#evaluations-list");
      if (TERMINAL.has(job.status) && evaluated) {
        return; // finished and evaluated: nothing more will arrive
      }
    } catch (e) {
      fill(header, h("p", { class: "error", role: "alert" }, e.message));
      if (e.status === 404) {
        return;
      }
    }
    setTimeout(poll, POLL_MS);
  }
  await poll();
}
