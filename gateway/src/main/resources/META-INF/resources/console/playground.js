// Playground and A/B: one prompt to a fine-tuned model and its base side by side, streamed. In
// blind mode the answers are unlabelled and in random order; the person says which is better (or
// a tie), and the rating goes to the feedback API, where the results are counted.
import { api, apiKey, ApiError, h, fill, announce, number } from "./api.js";

/** The base of a fine-tuned model's name, ft:{base}:{tenant}:{suffix}:{job}. */
function baseOf(model) {
  return model.split(":")[1];
}

/** Streams one chat completion; calls onText with each piece; resolves to the response id. */
async function stream(model, messages, sampling, onText) {
  const response = await fetch("/v1/chat/completions", {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey()}`, "Content-Type": "application/json" },
    body: JSON.stringify({ model, messages, stream: true, ...sampling }),
  });
  if (!response.ok) {
    let error = {};
    try {
      error = (await response.json()).error || {};
    } catch (e) {
      // not JSON
    }
    throw new ApiError(response.status, error.message || `${response.status}`, error.param);
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  let id = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return id;
    }
    buffered += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ") || line === "data: [DONE]") {
          continue;
        }
        const chunk = JSON.parse(line.slice(6));
        id = chunk.id || id;
        const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
        if (delta && delta.content) {
          onText(delta.content);
        }
      }
    }
  }
}

function resultsView(results) {
  if (!results.ratings) {
    return h("p", { id: "ab-results-summary" }, "No ratings yet.");
  }
  const [low, high] = results.win_rate_ci95;
  return h(
    "div",
    {},
    h(
      "p",
      { id: "ab-results-summary", dataset: { ratings: String(results.ratings) } },
      `${results.ratings} ratings: tuned better ${results.tuned_wins}, base better ${results.base_wins}, ties ${results.ties}. `,
      `Win rate of the tuned model ${number(results.win_rate, 3)} (95% interval ${number(low, 3)}–${number(high, 3)}, ties counted half).`
    ),
    results.comments.length
      ? h("ul", { id: "ab-comments" }, results.comments.map((c) => h("li", {}, `${c.outcome}: ${c.comment}`)))
      : null
  );
}

export async function playgroundPage(main) {
  const models = (await api("/v1/models")).data.filter((m) => m.id.startsWith("ft:"));
  if (models.length === 0) {
    fill(main, h("h1", {}, "Playground"), h("p", {}, "No fine-tuned model yet: train one first (New job)."));
    return;
  }
  const experiment = h(
    "select",
    { id: "ab-model", name: "model" },
    models.map((m) => h("option", { value: m.id }, m.id))
  );
  const system = h("input", { id: "ab-system", name: "system", placeholder: "optional system message" });
  const prompt = h("textarea", { id: "ab-prompt", name: "prompt", rows: 3, required: true });
  const temperature = h("input", { id: "ab-temperature", name: "temperature", value: "0.7", inputmode: "decimal" });
  const maxTokens = h("input", { id: "ab-max-tokens", name: "max_tokens", value: "64", inputmode: "numeric" });
  const topP = h("input", { id: "ab-top-p", name: "top_p", value: "1", inputmode: "decimal" });
  const blind = h("input", { id: "ab-blind", type: "checkbox", checked: true });
  const error = h("p", { class: "error", role: "alert", id: "ab-error" });
  const answers = h("div", { class: "charts", id: "ab-answers" });
  const rating = h("section", { id: "ab-rating" });
  const results = h("section", { id: "ab-results", "aria-live": "polite" });

  async function showResults() {
    try {
      const counted = await api(`/v1/feedback/comparisons?experiment=${encodeURIComponent(experiment.value)}`);
      fill(results, h("h2", {}, `Results for ${experiment.value}`), resultsView(counted));
    } catch (e) {
      fill(results, h("p", { class: "error" }, e.message));
    }
  }
  experiment.addEventListener("change", showResults);

  async function ask(event) {
    event.preventDefault();
    error.textContent = "";
    fill(rating);
    const tuned = experiment.value;
    const sides = [
      { model: baseOf(tuned), variant: "base" },
      { model: tuned, variant: "tuned" },
    ];
    if (Math.random() < 0.5) {
      sides.reverse();
    }
    const isBlind = blind.checked;
    const messages = [];
    if (system.value.trim()) {
      messages.push({ role: "system", content: system.value.trim() });
    }
    messages.push({ role: "user", content: prompt.value });
    const sampling = { temperature: Number(temperature.value), max_tokens: Number(maxTokens.value), top_p: Number(topP.value) };
    const panels = sides.map((side, i) => {
      const label = isBlind ? `Answer ${i + 1}` : `Answer ${i + 1}: ${side.variant} (${side.model})`;
      side.heading = h("h3", {}, label);
      side.text = h("p", { class: "answer", id: `ab-answer-${i + 1}`, "aria-live": "polite" });
      return h("figure", { class: "chart", dataset: { position: String(i + 1) } }, side.heading, side.text);
    });
    fill(answers, panels);
    let ids;
    try {
      ids = await Promise.all(sides.map((side) => stream(side.model, messages, sampling, (t) => side.text.append(t))));
    } catch (e) {
      error.textContent = e.message;
      return;
    }
    for (const side of sides) {
      side.text.dataset.done = "true";
    }
    const choice = (value, text) =>
      h("label", { class: "row" }, h("input", { type: "radio", name: "preferred", value, required: true }), text);
    const comment = h("textarea", { id: "ab-comment", name: "comment", rows: 2, maxlength: 2000 });
    const form = h(
      "form",
      {
        id: "ab-rating-form",
        class: "stack",
        onsubmit: async (submitted) => {
          submitted.preventDefault();
          const picked = form.querySelector("input[name=preferred]:checked");
          if (!picked) {
            error.textContent = "Pick the better answer, or a tie.";
            return;
          }
          const preferred = picked.value === "tie" ? "tie" : ids[Number(picked.value)];
          try {
            const recorded = await api("/v1/feedback/comparisons", {
              method: "POST",
              body: { experiment: tuned, response_ids: ids, preferred, comment: comment.value },
            });
            sides.forEach((side, i) => (side.heading.textContent = `Answer ${i + 1}: ${side.variant} (${side.model})`));
            fill(rating, h("p", { id: "ab-recorded" }, `Recorded: ${recorded.outcome === "tie" ? "a tie" : `${recorded.outcome} better`}.`));
            announce("Rating recorded");
            await showResults();
          } catch (e) {
            error.textContent = e.message;
          }
        },
      },
      h(
        "fieldset",
        {},
        h("legend", {}, "Which answer is better?"),
        choice("0", "Answer 1"),
        choice("tie", "Tie"),
        choice("1", "Answer 2")
      ),
      h("label", { for: "ab-comment" }, "Comment (optional)", comment),
      h("button", { type: "submit", id: "ab-submit" }, "Submit rating")
    );
    fill(rating, form);
  }

  fill(
    main,
    h("h1", {}, "Playground and A/B"),
    h(
      "form",
      { class: "stack", id: "ab-form", onsubmit: ask },
      h("label", { for: "ab-model" }, "Fine-tuned model (against its base)", experiment),
      h("label", { for: "ab-system" }, "System message", system),
      h("label", { for: "ab-prompt" }, "Prompt", prompt),
      h(
        "fieldset",
        {},
        h("legend", {}, "Sampling"),
        h("label", { for: "ab-temperature" }, "temperature", temperature),
        h("label", { for: "ab-max-tokens" }, "max_tokens", maxTokens),
        h("label", { for: "ab-top-p" }, "top_p", topP)
      ),
      h("label", { for: "ab-blind", class: "row" }, blind, "Blind: hide which model wrote which answer, in random order"),
      h("button", { type: "submit", id: "ab-ask" }, "Ask both")
    ),
    error,
    answers,
    rating,
    results
  );
  await showResults();
}
