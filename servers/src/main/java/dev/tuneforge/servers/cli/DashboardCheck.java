package dev.tuneforge.servers.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
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
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./tuneforge dashboards-check}: runs every PromQL query of the Grafana dashboards against a
 * real Prometheus, as Grafana would over the last {@code --window} (range queries, dashboard
 * variables at "All", {@code $__rate_interval} at 1m). Each query must parse and return series: a
 * panel that would show nothing is reported and fails the check. With {@code --job-id}, the running
 * job's training loss and tokens/s must also be there under its id.
 */
@Command(
    mixinStandardHelpOptions = true,
    name = "dashboards-check",
    description = "Run every dashboard panel's query against Prometheus; each must return series.")
final class DashboardCheck implements Callable<Integer> {
  @Option(names = "--prometheus", defaultValue = "http://127.0.0.1:9091")
  String prometheus;

  @Option(names = "--dashboards", defaultValue = "deploy/grafana/dashboards")
  Path dashboards;

  @Option(names = "--window", defaultValue = "PT15M")
  Duration window;

  @Option(names = "--job-id", description = "A job that ran while Prometheus scraped.")
  String jobId;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<String> empty = new ArrayList<>();
    int queries = 0;
    List<Path> files;
    try (Stream<Path> list = Files.list(dashboards)) {
      files = list.filter(f -> f.toString().endsWith(".json")).sorted().toList();
    }
    for (Path file : files) {
      JsonObject dashboard = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
      out.println(dashboard.get("title").getAsString());
      for (JsonElement p : dashboard.getAsJsonArray("panels")) {
        JsonObject panel = p.getAsJsonObject();
        for (JsonElement t : panel.getAsJsonArray("targets")) {
          String expr = t.getAsJsonObject().get("expr").getAsString();
          int series = series(expr);
          queries++;
          String title = panel.get("title").getAsString();
          out.printf("  %-40s %3d series  %s%n", title, series, expr);
          if (series == 0) {
            empty.add(file.getFileName() + ": " + title + ": " + expr);
          }
        }
      }
    }
    if (jobId != null) {
      for (String metric :
          List.of("tuneforge_training_loss", "tuneforge_training_tokens_per_second")) {
        String expr = metric + "{job_id=\"" + jobId + "\"}";
        int series = series(expr);
        queries++;
        out.printf("  %-40s %3d series  %s%n", "job " + jobId, series, expr);
        if (series == 0) {
          empty.add("the job's " + expr);
        }
      }
    }
    out.flush();
    if (!empty.isEmpty()) {
      spec.commandLine().getErr().println("queries that returned no series:");
      empty.forEach(e -> spec.commandLine().getErr().println("  " + e));
      return 1;
    }
    out.println(queries + " queries, every one returned series");
    out.flush();
    return 0;
  }

  /** Series of a range query over the window; fails on a query Prometheus refuses. */
  private int series(String expr) throws Exception {
    String query = expr.replace("$__rate_interval", "1m").replace("$job_id", ".+");
    Instant end = Instant.now();
    String url =
        prometheus
            + "/api/v1/query_range?query="
            + URLEncoder.encode(query, StandardCharsets.UTF_8)
            + "&start="
            + end.minus(window).getEpochSecond()
            + "&end="
            + end.getEpochSecond()
            + "&step=5";
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    JsonObject body = JsonParser.parseString(response.body()).getAsJsonObject();
    if (!"success".equals(body.get("status").getAsString())) {
      throw new IllegalStateException(
          "Prometheus refused " + query + ": " + body.get("error").getAsString());
    }
    JsonArray result = body.getAsJsonObject("data").getAsJsonArray("result");
    return result.size();
  }
}
