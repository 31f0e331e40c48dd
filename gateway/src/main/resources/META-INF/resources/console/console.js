// The console: sign-in, then pages by the URL's hash. Every page reads the public API with the
// signed-in key; nothing here has access the key does not give.
import { api, apiKey, setApiKey, h, ApiError, fill } from "./api.js";
import { filesPage } from "./files.js";
import { jobsPage, jobPage } from "./jobs.js";
import { newJobPage } from "./newjob.js";
import { evaluationPage } from "./evaluation.js";
import { playgroundPage } from "./playground.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
let generation = 0;

function go(hash) {
  if (location.hash === hash) {
    route();
  } else {
    location.hash = hash;
  }
}

function signInPage() {
  nav.hidden = true;
  const key = h("input", { id: "api-key", name: "api-key", type: "password", autocomplete: "off", required: true, "aria-describedby": "api-key-error" });
  const error = h("p", { class: "error", id: "api-key-error", role: "alert" });
  fill(main,
    h("h1", {}, "Sign in"),
    h(
      "form",
      {
        class: "stack",
        id: "sign-in-form",
        onsubmit: async (event) => {
          event.preventDefault();
          error.textContent = "";
          setApiKey(key.value.trim());
          try {
            await api("/v1/models");
            go("#/jobs");
          } catch (e) {
            setApiKey(null);
            error.textContent = e instanceof ApiError && e.status === 401 ? "That API key is not valid." : e.message;
            key.setAttribute("aria-invalid", "true");
            key.focus();
          }
        },
      },
      h("label", { for: "api-key" }, "API key", key),
      h("p", { class: "hint" }, "Kept in this browser tab only (session storage), and sent with each API call."),
      error,
      h("button", { type: "submit", id: "sign-in" }, "Sign in")
    )
  );
  key.focus();
}

async function route() {
  const mine = ++generation;
  const isCurrent = () => mine === generation;
  if (!apiKey()) {
    signInPage();
    return;
  }
  nav.hidden = false;
  const hash = location.hash || "#/jobs";
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === hash) {
      link.setAttribute("aria-current", "page");
    } else {
      link.removeAttribute("aria-current");
    }
  }
  const parts = hash.replace(/^#\//, "").split("/").map(decodeURIComponent);
  fill(main, h("p", {}, "Loading…"));
  try {
    if (parts[0] === "files") {
      await filesPage(main);
    } else if (parts[0] === "playground") {
      await playgroundPage(main);
    } else if (parts[0] === "jobs" && parts[1] === "new") {
      await newJobPage(main, go);
    } else if (parts[0] === "jobs" && parts[1] && parts[2] === "evaluations" && parts[3]) {
      await evaluationPage(main, parts[1], parts[3]);
    } else if (parts[0] === "jobs" && parts[1]) {
      await jobPage(main, parts[1], isCurrent);
    } else {
      await jobsPage(main, isCurrent);
    }
    document.title = `${main.querySelector("h1") ? main.querySelector("h1").textContent : "Console"} · TuneForge`;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setApiKey(null);
      signInPage();
      return;
    }
    fill(main, h("h1", {}, "Something went wrong"), h("p", { class: "error", role: "alert" }, e.message));
  }
}

document.getElementById("sign-out").addEventListener("click", () => {
  setApiKey(null);
  go("#/");
});
window.addEventListener("hashchange", route);
route();
