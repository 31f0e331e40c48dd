// Files: upload with progress, the list, a preview of the first records, delete.
import { api, upload, h, announce, when, fill } from "./api.js";

const PREVIEW_RECORDS = 5;

export async function filesPage(main) {
  const progress = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Upload progress" });
  const uploadError = h("p", { class: "error", role: "alert" });
  const input = h("input", { type: "file", id: "upload-file", name: "file", accept: ".jsonl,.json,.csv", required: true });
  const list = h("div", { id: "files-list" });
  const preview = h("section", { id: "file-preview", "aria-live": "polite" });

  const form = h(
    "form",
    {
      class: "row",
      id: "upload-form",
      onsubmit: async (event) => {
        event.preventDefault();
        uploadError.textContent = "";
        if (!input.files.length) {
          uploadError.textContent = "Choose a file to upload.";
          return;
        }
        progress.hidden = false;
        progress.value = 0;
        try {
          const file = await upload(input.files[0], "fine-tune", (share) => {
            progress.value = share;
          });
          announce(`Uploaded ${file.filename} as ${file.id}`);
          input.value = "";
          await refresh();
        } catch (e) {
          uploadError.textContent = e.message;
        } finally {
          progress.hidden = true;
        }
      },
    },
    h("label", { for: "upload-file" }, "Training data (JSONL, JSON or CSV)", input),
    h("button", { type: "submit" }, "Upload"),
    progress
  );

  async function showPreview(file) {
    fill(preview, h("h2", {}, `Preview of ${file.filename}`));
    try {
      const text = await api(`/v1/files/${encodeURIComponent(file.id)}/content`, { raw: true });
      const lines = text.split("\n").filter((l) => l.trim() !== "");
      const shown = lines.slice(0, PREVIEW_RECORDS).map((line) => {
        try {
          return JSON.stringify(JSON.parse(line), null, 2);
        } catch (e) {
          return line;
        }
      });
      preview.append(
        h("p", { class: "hint" }, `The first ${shown.length} of ${lines.length} records`),
        h("pre", { id: "preview-records" }, shown.join("\n\n"))
      );
    } catch (e) {
      preview.append(h("p", { class: "error" }, e.message));
    }
  }

  async function refresh() {
    const files = (await api("/v1/files")).data;
    if (files.length === 0) {
      fill(list, h("p", {}, "No files yet: upload one above."));
      return;
    }
    const rows = files.map((file) =>
      h(
        "tr",
        { dataset: { fileId: file.id } },
        h("td", {}, file.filename),
        h("td", {}, h("code", {}, file.id)),
        h("td", { class: "num" }, String(file.bytes)),
        h("td", {}, file.purpose),
        h("td", {}, when(file.created_at)),
        h(
          "td",
          { class: "row" },
          h("button", { type: "button", class: "secondary", onclick: () => showPreview(file) }, "Preview"),
          h(
            "button",
            {
              type: "button",
              class: "danger",
              onclick: async () => {
                if (!confirm(`Delete ${file.filename} (${file.id})?`)) {
                  return;
                }
                await api(`/v1/files/${encodeURIComponent(file.id)}`, { method: "DELETE" });
                announce(`Deleted ${file.filename}`);
                await refresh();
              },
            },
            "Delete"
          )
        )
      )
    );
    fill(list,
      h(
        "table",
        { id: "files-table" },
        h("caption", { class: "visually-hidden" }, "Your files"),
        h(
          "thead",
          {},
          h("tr", {}, ...["Name", "Id", "Bytes", "Purpose", "Uploaded", "Actions"].map((t) => h("th", { scope: "col" }, t)))
        ),
        h("tbody", {}, rows)
      )
    );
  }

  fill(main, h("h1", {}, "Files"), form, uploadError, list, preview);
  await refresh();
}
