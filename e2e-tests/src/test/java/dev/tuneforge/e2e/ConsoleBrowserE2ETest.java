package dev.tuneforge.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.servers.ServerHome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real headless browser (the system's chromium through its chromedriver)
 * against the real local stack: sign in, upload, create a job with a field error corrected, watch
 * the loss chart gain points while it trains, open its evaluation, and a second tenant sees none of
 * it. Screenshots of each page are kept under {@code e2e-tests/target/console-screenshots/}.
 * Skipped when chromium or chromedriver is not installed ({@code .ci/run} installs them as root).
 */
class ConsoleBrowserE2ETest {
  private static final Duration TRAINING = Duration.ofMinutes(4);

  @TempDir static Path home;
  static E2eStack stack;
  static WebDriver browser;
  static Path screenshots;

  @BeforeAll
  static void start() throws Exception {
    Optional<Path> chromium = onPath("chromium").or(() -> onPath("chromium-browser"));
    Optional<Path> driver = onPath("chromedriver");
    Assumptions.assumeTrue(
        chromium.isPresent() && driver.isPresent(),
        "chromium and chromedriver are not installed (apt-get install chromium chromium-driver)");
    stack = new E2eStack(home);
    for (String service : List.of("data-service", "trainer-service", "eval-service")) {
      stack.start(service);
    }
    stack.start("gateway", "gateway", Map.of("TUNEFORGE_SERVING_URL", stack.url("eval-service")));
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.get().toFile());
    options.addArguments(
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000");
    ChromeDriverService service =
        new ChromeDriverService.Builder().usingDriverExecutable(driver.get().toFile()).build();
    browser = new ChromeDriver(service, options);
    screenshots =
        ServerHome.dir().getParent().getParent().resolve("e2e-tests/target/console-screenshots");
    Files.createDirectories(screenshots);
  }

  @AfterAll
  static void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (stack != null) {
      stack.close();
    }
  }

  private static Optional<Path> onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static WebDriverWait waiting(Duration timeout) {
    return new WebDriverWait(browser, timeout);
  }

  private static WebElement visible(String css) {
    return waiting(Duration.ofSeconds(30))
        .until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(css)));
  }

  private static void screenshot(String name) throws Exception {
    byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
    Files.write(screenshots.resolve(name + ".png"), png);
  }

  private static void open(String hash) {
    browser.get(stack.url("gateway") + "/" + hash);
  }

  /** Signs in from the keyboard: the key typed, Enter pressed. */
  private static void signIn(String key) {
    open("#/");
    WebElement field = visible("#api-key");
    field.clear();
    field.sendKeys(key, org.openqa.selenium.Keys.ENTER);
  }

  /** Every form control on the page has a label (or an aria-label) a screen reader reads out. */
  private static void assertLabelled(String page) {
    Object unlabelled =
        ((org.openqa.selenium.JavascriptExecutor) browser)
            .executeScript(
                "return [...document.querySelectorAll('input, select, textarea')]"
                    + ".filter(e => e.type !== 'hidden' && e.labels.length === 0"
                    + " && !e.getAttribute('aria-label')).map(e => e.id || e.name);");
    assertEquals(List.of(), unlabelled, page + ": controls without a label");
  }

  private static void signOut() {
    browser.findElement(By.id("sign-out")).click();
    visible("#api-key");
  }

  @Test
  void aPersonTrainsWatchesAndEvaluatesAJobInTheBrowser() throws Exception {
    // sign in: a wrong key is refused at the field, the right one opens the jobs page
    signIn("sk-not-a-key-0000000000000");
    waiting(Duration.ofSeconds(10))
        .until(
            ExpectedConditions.textToBePresentInElementLocated(
                By.id("api-key-error"), "not valid"));
    screenshot("01-sign-in-refused");
    signIn(E2eStack.KEY);
    visible("#jobs-list");
    screenshot("02-jobs-empty");

    // upload the demo's data with progress, see it listed and preview its first records
    Path data = ServerHome.dir().getParent().getParent().resolve("examples/parity.jsonl");
    open("#/files");
    visible("#upload-file").sendKeys(data.toString());
    browser.findElement(By.cssSelector("#upload-form button[type=submit]")).click();
    WebElement row = visible("#files-table tbody tr");
    String fileId = row.getAttribute("data-file-id");
    assertTrue(row.getText().contains("parity.jsonl"), row.getText());
    row.findElement(By.xpath(".//button[text()='Preview']")).click();
    String preview = visible("#preview-records").getText();
    assertTrue(preview.contains("even or odd"), preview);
    screenshot("03-files");
    assertLabelled("files");

    // a new job: a bad batch size is shown at its field, then corrected
    open("#/jobs/new");
    visible("#new-job-form");
    new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("job-training-file")))
        .selectByValue(fileId);
    browser.findElement(By.id("job-suffix")).sendKeys("parity");
    browser.findElement(By.id("hp-n_epochs")).sendKeys("6");
    browser.findElement(By.id("hp-learning_rate")).sendKeys("0.005");
    browser.findElement(By.id("hp-logging_steps")).sendKeys("10");
    browser.findElement(By.id("ad-r")).sendKeys("8");
    WebElement batch = browser.findElement(By.id("hp-batch_size"));
    batch.sendKeys("many");
    browser.findElement(By.id("create-job")).click();
    WebElement batchError =
        waiting(Duration.ofSeconds(15))
            .until(
                d -> {
                  WebElement slot = d.findElement(By.id("hp-batch_size-error"));
                  return slot.getText().isEmpty() ? null : slot;
                });
    assertTrue(batchError.getText().contains("batch_size"), batchError.getText());
    assertEquals("true", batch.getAttribute("aria-invalid"));
    screenshot("04-new-job-field-error");
    assertLabelled("new job");
    batch.clear();
    batch.sendKeys("8");
    browser.findElement(By.id("create-job")).click();
    visible("#job-header");
    String job = browser.getCurrentUrl().replaceFirst(".*#/jobs/", "");
    assertTrue(job.startsWith("ftjob-"), browser.getCurrentUrl());

    // the loss chart gains points while the job trains, without a reload
    WebElement loss =
        waiting(TRAINING)
            .until(
                ExpectedConditions.presenceOfElementLocated(
                    By.cssSelector("figure[data-chart=loss][data-points]")));
    int first = Integer.parseInt(loss.getAttribute("data-points"));
    waiting(TRAINING)
        .until(
            d ->
                Integer.parseInt(
                        d.findElement(By.cssSelector("figure[data-chart=loss]"))
                            .getAttribute("data-points"))
                    > first);
    screenshot("05-job-training");
    String facts = visible("#dataset-facts").getText();
    assertTrue(facts.contains("600"), "600 records in: " + facts);
    assertFalse(
        browser.findElements(By.cssSelector("#dataset-histogram tr[data-bucket]")).isEmpty(),
        "the token-length histogram");
    assertFalse(
        browser.findElements(By.cssSelector("#dataset-roles tr[data-bucket=assistant]")).isEmpty(),
        "the roles of the chat records");
    assertFalse(
        browser.findElements(By.cssSelector("figure[data-chart=learning_rate]")).isEmpty(),
        "a learning-rate chart too");

    // the evaluation, base against tuned, once the job succeeded and was evaluated
    WebElement evaluation =
        waiting(TRAINING)
            .until(ExpectedConditions.elementToBeClickable(By.cssSelector("#evaluations-list a")));
    assertTrue(browser.findElement(By.id("job-status")).getText().contains("succeeded"));
    screenshot("06-job-done");
    evaluation.click();
    List<WebElement> perplexity =
        visible("#metrics-table tr[data-metric=perplexity]").findElements(By.tagName("td"));
    double base = Double.parseDouble(perplexity.get(0).getText());
    double tuned = Double.parseDouble(perplexity.get(1).getText());
    double change = Double.parseDouble(perplexity.get(2).getText());
    assertTrue(tuned < base, "the tuned model's perplexity is below the base's: " + tuned);
    assertEquals(tuned - base, change, 1e-3, "the change shown is tuned - base");
    assertTrue(perplexity.get(2).getAttribute("class").contains("delta-up"), "shown as better");
    int samples = browser.findElements(By.cssSelector("#samples-table tbody tr")).size();
    assertTrue(samples > 0);
    browser.findElement(By.id("only-differing")).click();
    for (WebElement sample : browser.findElements(By.cssSelector("#samples-table tbody tr"))) {
      assertEquals("true", sample.getAttribute("data-differs"));
    }
    screenshot("07-evaluation");
    assertLabelled("evaluation");

    // the playground: both models answer side by side, blind; the rating is counted
    open("#/playground");
    String tunedModel =
        new org.openqa.selenium.support.ui.Select(visible("#ab-model"))
            .getFirstSelectedOption()
            .getAttribute("value");
    assertTrue(tunedModel.startsWith("ft:tiny-llama:acme:parity:" + job), tunedModel);
    visible("#ab-prompt").sendKeys("Is 4242 even or odd?");
    WebElement temperature = browser.findElement(By.id("ab-temperature"));
    temperature.clear();
    temperature.sendKeys("0"); // greedy: the tuned model's answer is its best
    browser.findElement(By.id("ab-ask")).click();
    waiting(Duration.ofSeconds(60))
        .until(
            d -> d.findElements(By.cssSelector("#ab-answers .answer[data-done=true]")).size() == 2);
    for (WebElement heading : browser.findElements(By.cssSelector("#ab-answers h3"))) {
      assertTrue(heading.getText().matches("Answer [12]"), "blind: " + heading.getText());
    }
    browser.findElement(By.cssSelector("input[name=preferred][value='0']")).click();
    browser.findElement(By.id("ab-comment")).sendKeys("the first is right");
    screenshot("08-playground-rating");
    assertLabelled("playground");
    browser.findElement(By.id("ab-submit")).click();
    visible("#ab-recorded");
    waiting(Duration.ofSeconds(15))
        .until(ExpectedConditions.attributeToBe(By.id("ab-results-summary"), "data-ratings", "1"));
    WebElement tunedPanel =
        browser.findElement(By.xpath("//div[@id='ab-answers']/figure[h3[contains(., 'tuned (')]]"));
    assertTrue(
        tunedPanel.findElement(By.tagName("h3")).getText().contains(tunedModel),
        "the answers are named once rated");
    String tunedAnswer = tunedPanel.findElement(By.className("answer")).getAttribute("textContent");
    assertEquals("even", tunedAnswer.strip(), "the tuned model answers the parity question");
    screenshot("09-playground-results");
    stack
        .api()
        .queryParam("experiment", tunedModel)
        .get("/v1/feedback/comparisons")
        .then()
        .statusCode(200)
        .body("ratings", org.hamcrest.Matchers.equalTo(1))
        .body("comments[0].comment", org.hamcrest.Matchers.equalTo("the first is right"));
    String scrape =
        io.restassured.RestAssured.given()
            .port(stack.ports.get("eval-service"))
            .get("/q/metrics")
            .asString();
    assertTrue(scrape.contains("tuneforge_ab_comparisons_total{"), "counted for the dashboards");
    stack
        .globex()
        .queryParam("experiment", tunedModel)
        .get("/v1/feedback/comparisons")
        .then()
        .statusCode(404);

    // a file is deleted from its row, after the browser's confirmation
    Path spare = home.resolve("spare.jsonl");
    Files.writeString(spare, "{\"prompt\": \"Is 3 even or odd?\", \"completion\": \"odd\"}\n");
    open("#/files");
    visible("#upload-file").sendKeys(spare.toString());
    browser.findElement(By.cssSelector("#upload-form button[type=submit]")).click();
    WebElement spareRow =
        waiting(Duration.ofSeconds(30))
            .until(
                ExpectedConditions.presenceOfElementLocated(
                    By.xpath("//table[@id='files-table']//tr[td[text()='spare.jsonl']]")));
    String spareId = spareRow.getAttribute("data-file-id");
    spareRow.findElement(By.xpath(".//button[text()='Delete']")).click();
    waiting(Duration.ofSeconds(10)).until(ExpectedConditions.alertIsPresent()).accept();
    waiting(Duration.ofSeconds(15))
        .until(
            ExpectedConditions.invisibilityOfElementLocated(
                By.cssSelector("tr[data-file-id='" + spareId + "']")));
    stack.api().get("/v1/files/" + spareId).then().statusCode(404);

    // another tenant sees none of it, not even by the job's address
    signOut();
    signIn(E2eStack.GLOBEX_KEY);
    visible("#jobs-list");
    assertFalse(browser.findElement(By.id("jobs-list")).getText().contains(job));
    open("#/files");
    visible("#files-list");
    assertFalse(browser.findElement(By.id("files-list")).getText().contains(fileId));
    open("#/jobs/" + job);
    WebElement refused = visible("#job-header .error");
    assertTrue(refused.getText().contains("No such fine-tuning job"), refused.getText());
    open("#/playground");
    WebElement none =
        waiting(Duration.ofSeconds(15))
            .until(
                ExpectedConditions.presenceOfElementLocated(
                    By.xpath("//main/p[contains(., 'No fine-tuned model yet')]")));
    assertTrue(none.isDisplayed(), "globex has no models and sees none of acme's");
    screenshot("10-other-tenant");
  }
}
