package dev.tuneforge.servers.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./tuneforge demo}: the main job, as a user runs it, against the running local stack. It
 * uploads the dataset and creates the job through the gateway, shows the job's stages and a
 * progress bar (step, loss, ETA) from its events, and ends with a report: the base and tuned
 * model's metrics on the held-out test split, where the adapter is, and one answer of the
 * fine-tuned model through the chat completions API.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "demo",
    description = "Fine-tune the tiny model on the example dataset through the API and report.")
final class Demo implements Callable<Integer> {
  private static final int BAR = 30;

  @Option(names = "--gateway", defaultValue = "http://127.0.0.1:8080")
  String gateway;

  @Option(
      names = "--key",
      defaultValue = "${env:TUNEFORGE_DEMO_KEY:-sk-local-acme-0000000000}",
      description = "API key (default: the local demo key of tenant acme).")
  String key;

  @Option(names = "--file", defaultValue = "examples/parity.jsonl", description = "Dataset.")
  Path file;

  @Option(
      names = "--job",
      defaultValue = "examples/demo-job.json",
      description = "The job request; \"$FILE\" stands for the uploaded file's id.")
  Path job;

  @Option(names = "--timeout", defaultValue = "PT15M", description = "Give up after this long.")
  Duration timeout;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    String fileId = upload();
    out.printf("uploaded %s as %s%n", file, fileId);
    String request = Files.readString(job).replace("$FILE", fileId);
    JsonObject created = json(send("POST", "/v1/fine_tuning/jobs", request));
    String jobId = created.get("id").getAsString();
    out.printf(
        "created %s (%s on %s)%n",
        jobId, created.get("tuneforge_method").getAsString(), created.get("model").getAsString());
    out.flush();
    Instant deadline = Instant.now().plus(timeout);
    int seenMessages = 0;
    String bar = null;
    JsonObject view;
    while (true) {
      view = json(send("GET", "/v1/fine_tuning/jobs/" + jobId, null));
      List<JsonObject> ordered = events(jobId); // in the order they happened
      List<JsonObject> messages =
          ordered.stream().filter(e -> e.get("type").getAsString().equals("message")).toList();
      JsonObject lastProgress = null;
      for (JsonObject e : ordered) {
        if (e.get("type").getAsString().equals("metrics")
            && e.getAsJsonObject("data").has("total_steps")) {
          lastProgress = e.getAsJsonObject("data");
        }
      }
      for (; seenMessages < messages.size(); seenMessages++) {
        if (bar != null) {
          out.println();
          bar = null;
        }
        out.println("  " + messages.get(seenMessages).get("message").getAsString());
      }
      if (lastProgress != null) {
        String next = progressBar(lastProgress);
        if (!next.equals(bar)) {
          out.print("\r" + next);
          bar = next;
        }
      }
      out.flush();
      String status = view.get("status").getAsString();
      if (List.of("succeeded", "failed", "cancelled").contains(status)) {
        if (bar != null) {
          out.println();
        }
        break;
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException("job " + jobId + " did not finish within " + timeout);
      }
      Thread.sleep(500);
    }
    if (!view.get("status").getAsString().equals("succeeded")) {
      out.println(
          "job " + jobId + " " + view.get("status").getAsString() + ": " + view.get("error"));
      out.flush();
      return 1;
    }
    report(out, jobId, view);
    return 0;
  }

  /** {@code [#####.....] 45% step 160/360 loss 0.532 ETA 12s}. */
  static String progressBar(JsonObject data) {
    long step = data.get("step").getAsLong();
    long total = Math.max(1, data.get("total_steps").getAsLong());
    double done = Math.min(1, (double) step / total);
    int filled = (int) Math.round(done * BAR);
    StringBuilder line = new StringBuilder("  [");
    line.append("#".repeat(filled)).append(".".repeat(BAR - filled)).append("] ");
    line.append(String.format(Locale.ROOT, "%3.0f%% step %d/%d", done * 100, step, total));
    if (data.has("train_loss")) {
      line.append(String.format(Locale.ROOT, "  loss %.4f", data.get("train_loss").getAsDouble()));
    }
    if (data.has("eta_seconds")) {
      line.append(String.format(Locale.ROOT, "  ETA %ds", data.get("eta_seconds").getAsLong()));
    }
    return line.toString();
  }

  /** Every event of the job, oldest first (the API pages them newest first). */
  private List<JsonObject> events(String jobId) throws Exception {
    List<JsonObject> all = new ArrayList<>();
    String after = null;
    while (true) {
      JsonObject page =
          json(
              send(
                  "GET",
                  "/v1/fine_tuning/jobs/"
                      + jobId
                      + "/events?limit=100"
                      + (after == null ? "" : "&after=" + after),
                  null));
      JsonArray data = page.getAsJsonArray("data");
      data.forEach(e -> all.add(e.getAsJsonObject()));
      if (data.isEmpty() || !page.get("has_more").getAsBoolean()) {
        break;
      }
      after = data.get(data.size() - 1).getAsJsonObject().get("id").getAsString();
    }
    java.util.Collections.reverse(all);
    return all;
  }

  private void report(PrintWriter out, String jobId, JsonObject view) throws Exception {
    JsonObject eval = null;
    for (JsonObject event : events(jobId)) {
      if (event.get("message").getAsString().equals("Evaluated final")) {
        eval = event.getAsJsonObject("data");
        break;
      }
    }
    out.println();
    out.println("Report for " + jobId + " (held-out test split)");
    out.printf("  %-12s %10s %10s %10s%n", "metric", "base", "tuned", "change");
    if (eval != null) {
      for (String name : eval.keySet()) {
        if (name.startsWith("base_") || !eval.has("base_" + name)) {
          continue;
        }
        double tuned = eval.get(name).getAsDouble();
        double base = eval.get("base_" + name).getAsDouble();
        out.printf(Locale.ROOT, "  %-12s %10.4f %10.4f %+10.4f%n", name, base, tuned, tuned - base);
      }
    }
    String model = view.get("fine_tuned_model").getAsString();
    String prefix = view.get("result_prefix").getAsString();
    out.println("  fine-tuned model: " + model);
    out.println("  adapter (PEFT):   s3://tuneforge/" + prefix + "");
    out.println("  eval report:      s3://tuneforge/jobs/" + jobId + "/evals/final.json");
    String question = "Is 4242 even or odd?";
    JsonObject chat = new JsonObject();
    chat.addProperty("model", model);
    chat.addProperty("temperature", 0);
    JsonArray messages = new JsonArray();
    JsonObject user = new JsonObject();
    user.addProperty("role", "user");
    user.addProperty("content", question);
    messages.add(user);
    chat.add("messages", messages);
    JsonObject answer = json(send("POST", "/v1/chat/completions", chat.toString()));
    out.printf(
        "  POST /v1/chat/completions: \"%s\" -> \"%s\"%n",
        question,
        answer
            .getAsJsonArray("choices")
            .get(0)
            .getAsJsonObject()
            .getAsJsonObject("message")
            .get("content")
            .getAsString());
    out.println();
    out.println("Web console: " + gateway + "/ (sign in with " + key + ")");
    out.println("  jobs, live curves and this evaluation: " + gateway + "/#/jobs/" + jobId);
    out.flush();
  }

  private String upload() throws Exception {
    String boundary = "tuneforge-" + UUID.randomUUID();
    byte[] content = Files.readAllBytes(file);
    String head =
        "--"
            + boundary
            + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n"
            + "--"
            + boundary
            + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\""
            + file.getFileName()
            + "\"\r\nContent-Type: application/jsonl\r\n\r\n";
    byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[head.length() + content.length + tail.length];
    byte[] headBytes = head.getBytes(StandardCharsets.UTF_8);
    System.arraycopy(headBytes, 0, body, 0, headBytes.length);
    System.arraycopy(content, 0, body, headBytes.length, content.length);
    System.arraycopy(tail, 0, body, headBytes.length + content.length, tail.length);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(gateway + "/v1/files"))
            .header("Authorization", "Bearer " + key)
            .header("Content-Type", "multipart/form-data; boundary=" + boundary)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build();
    return json(check(http.send(request, HttpResponse.BodyHandlers.ofString())))
        .get("id")
        .getAsString();
  }

  private String send(String method, String path, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(gateway + path))
            .timeout(Duration.ofMinutes(2))
            .header("Authorization", "Bearer " + key);
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return check(http.send(request.build(), HttpResponse.BodyHandlers.ofString()));
  }

  private static String check(HttpResponse<String> response) {
    if (response.statusCode() / 100 != 2) {
      throw new IllegalStateException(
          response.request().method()
              + " "
              + response.request().uri()
              + " answered "
              + response.statusCode()
              + ": "
              + response.body());
    }
    return response.body();
  }

  private static JsonObject json(String body) {
    return JsonParser.parseString(body).getAsJsonObject();
  }
}
