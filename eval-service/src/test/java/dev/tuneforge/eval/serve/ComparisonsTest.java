package dev.tuneforge.eval.serve;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tuneforge.eval.TestModels;
import dev.tuneforge.platform.api.ServiceAuth;
import dev.tuneforge.platform.storage.Artifacts;
import dev.tuneforge.platform.storage.ObjectStore;
import dev.tuneforge.testing.RealStackResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Side-by-side ratings: which answer is the tuned model's is taken from what was served, not from
 * the rater; each answer is rated once; another tenant can neither rate nor read them; the results
 * are counted from the bucket with the win rate and its Wilson interval.
 */
@QuarkusTest
@QuarkusTestResource(RealStackResource.class)
@org.junit.jupiter.api.extension.ExtendWith(dev.tuneforge.testing.ServiceCredential.class)
class ComparisonsTest {
  static final String JOB = "cmp-job";
  static final String TUNED = "ft:tiny-cmp:acme::" + JOB;
  static boolean seeded;
  @Inject ObjectStore store;
  @Inject Artifacts artifacts;

  @BeforeEach
  void seed() throws Exception {
    store.ensureBucket();
    if (seeded) {
      return;
    }
    Path base = TestModels.base(store, "tiny-cmp", 11);
    Path adapter = TestModels.adapter(base, "tiny-cmp", true);
    TestModels.commitFinal(artifacts, JOB, adapter);
    seeded = true;
  }

  private static RequestSpecification as(String tenant) {
    return given().header(ServiceAuth.TENANT_HEADER, tenant).contentType(ContentType.JSON);
  }

  /** One answer of {@code model} served to acme; its response id. */
  private static String answer(String model, String prompt) {
    return as("acme")
        .body(
            Map.of(
                "model",
                model,
                "messages",
                List.of(Map.of("role", "user", "content", prompt)),
                "max_tokens",
                6))
        .post("/v1/chat/completions")
        .then()
        .statusCode(200)
        .extract()
        .path("id");
  }

  private static io.restassured.response.Response rate(
      String tenant, List<String> ids, String preferred) {
    return as(tenant)
        .body(
            Map.of(
                "experiment",
                TUNED,
                "response_ids",
                ids,
                "preferred",
                preferred,
                "comment",
                "rated " + preferred))
        .post("/v1/feedback/comparisons");
  }

  @Test
  void ratingsAreCheckedAgainstWhatWasServedAndCounted() {
    // shown tuned first, the tuned one preferred
    String base1 = answer("tiny-cmp", "Hi");
    String tuned1 = answer(TUNED, "Hi");
    rate("acme", List.of(tuned1, base1), tuned1)
        .then()
        .statusCode(200)
        .body("outcome", equalTo("tuned"))
        .body("tuned_response_id", equalTo(tuned1));
    rate("acme", List.of(tuned1, base1), base1)
        .then()
        .statusCode(409)
        .body("error.param", equalTo("response_ids"));
    // shown base first: which one is tuned comes from what was served, not from the order
    String base2 = answer("tiny-cmp", "Hello");
    String tuned2 = answer(TUNED, "Hello");
    rate("acme", List.of(base2, tuned2), base2)
        .then()
        .statusCode(200)
        .body("outcome", equalTo("base"));
    String base3 = answer("tiny-cmp", "Hey");
    String tuned3 = answer(TUNED, "Hey");
    rate("acme", List.of(base3, tuned3), "tie")
        .then()
        .statusCode(200)
        .body("outcome", equalTo("tie"));

    // not a pair of this experiment, not theirs, not an answer
    String base4 = answer("tiny-cmp", "Yo");
    String base5 = answer("tiny-cmp", "Yo!");
    rate("acme", List.of(base4, base5), base4)
        .then()
        .statusCode(400)
        .body("error.message", containsString("one answer of " + TUNED + " and one of its base"));
    String tuned4 = answer(TUNED, "Yo");
    rate("acme", List.of(base4, tuned4), "neither")
        .then()
        .statusCode(400)
        .body("error.param", equalTo("preferred"));
    rate("globex", List.of(base4, tuned4), tuned4).then().statusCode(404);
    rate("acme", List.of(base4, "chatcmpl-unknown"), base4).then().statusCode(404);
    as("globex")
        .queryParam("experiment", TUNED)
        .get("/v1/feedback/comparisons")
        .then()
        .statusCode(404);

    // the results, counted from the bucket: win rate (ties half) 0.5 of 3, Wilson [0.125, 0.875]
    Map<String, Object> results =
        as("acme")
            .queryParam("experiment", TUNED)
            .get("/v1/feedback/comparisons")
            .then()
            .statusCode(200)
            .extract()
            .as(Map.class);
    assertEquals(3, results.get("ratings"));
    assertEquals(1, results.get("tuned_wins"));
    assertEquals(1, results.get("base_wins"));
    assertEquals(1, results.get("ties"));
    assertEquals(0.5, ((Number) results.get("win_rate")).doubleValue(), 1e-12);
    List<?> ci = (List<?>) results.get("win_rate_ci95");
    // Wilson at 0.5 of 3, worked out with Python from the formula (as in the test below)
    assertEquals(0.1253344719, ((Number) ci.get(0)).doubleValue(), 1e-9);
    assertEquals(0.8746655281, ((Number) ci.get(1)).doubleValue(), 1e-9);
    assertEquals(3, ((List<?>) results.get("comments")).size());
    assertEquals(3, store.list("feedback/comparisons/acme/").size(), "each rating is stored");
    String scrape = given().get("/q/metrics").asString();
    assertTrue(scrape.contains("tuneforge_ab_comparisons_total{"), scrape);
    assertTrue(scrape.contains("outcome=\"tie\""), scrape);
  }

  /** Wilson's interval against values worked out independently (z = 1.959964). */
  @Test
  void theWilsonIntervalMatchesItsFormula() {
    double[] half = Comparisons.wilson(0.5, 3);
    assertEquals(0.1253344719, half[0], 1e-9);
    assertEquals(0.8746655281, half[1], 1e-9);
    double[] all = Comparisons.wilson(1.0, 2);
    assertEquals(0.3423802275, all[0], 1e-9);
    assertEquals(1.0, all[1], 1e-12);
  }
}
