// The console's only way to the platform: the public API, with the key the person signed in with.
// The key lives in this browser tab's sessionStorage and nowhere else.

const KEY = "tuneforge.apiKey";

export function apiKey() {
  return sessionStorage.getItem(KEY);
}

export function setApiKey(key) {
  if (key) {
    sessionStorage.setItem(KEY, key);
  } else {
    sessionStorage.removeItem(KEY);
  }
}

/** An OpenAI-shaped error answer: status, message and the request field it names (param). */
export class ApiError extends Error {
  constructor(status, message, param, code) {
    super(message);
    this.status = status;
    this.param = param || null;
    this.code = code || null;
  }
}

async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    // not JSON: the status alone
  }
  const error = body && body.error ? body.error : {};
  return new ApiError(
    response.status,
    error.message || `${response.status} ${response.statusText}`,
    error.param,
    error.code
  );
}

/** Calls the API; JSON in and out. Throws ApiError on an error answer. */
export async function api(path, { method = "GET", body, raw = false } = {}) {
  const headers = { Authorization: `Bearer ${apiKey()}` };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    throw await errorOf(response);
  }
  return raw ? response.text() : response.json();
}

/** Uploads a file with progress (fetch has no upload progress; XMLHttpRequest has). */
export function upload(file, purpose, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append("purpose", purpose);
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/files");
    xhr.setRequestHeader("Authorization", `Bearer ${apiKey()}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        onProgress(e.loaded / e.total);
      }
    };
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body);
      } else {
        const error = body && body.error ? body.error : {};
        reject(new ApiError(xhr.status, error.message || `upload failed (${xhr.status})`, error.param));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "the upload could not reach the gateway"));
    xhr.send(form);
  });
}

/** Every page of a list endpoint (OpenAI's after/limit paging). */
export async function listAll(path, limit = 100) {
  const items = [];
  let after = null;
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api(`${path}${sep}limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ""}`);
    items.push(...page.data);
    if (!page.has_more || page.data.length === 0) {
      return items;
    }
    after = page.data[page.data.length - 1].id;
  }
}

/**
 * Builds an element. Text children are text nodes, never markup, so what the API returns (file
 * names, prompts, model answers) can never run as code in the page.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children as h() takes them (null and false skipped, text as text). */
export function fill(el, ...children) {
  el.replaceChildren(...h("div", {}, ...children).childNodes);
  return el;
}

export function announce(text) {
  document.getElementById("status").textContent = text;
}

export function when(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : "";
}

export function number(value, digits = 4) {
  if (value === null || value === undefined || value === "NaN") {
    return "—";
  }
  if (typeof value !== "number") {
    return String(value);
  }
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}
