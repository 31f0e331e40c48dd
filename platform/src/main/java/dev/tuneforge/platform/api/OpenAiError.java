package dev.tuneforge.platform.api;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Errors in the OpenAI shape: {@code {"error": {"message", "type", "param", "code"}}}, so clients
 * written for that API read them unchanged.
 */
public final class OpenAiError {
  private OpenAiError() {}

  public static Response response(
      int status, String type, String code, String message, String param) {
    return Response.status(status)
        .type(MediaType.APPLICATION_JSON)
        .entity(body(type, code, message, param))
        .build();
  }

  /** The body {@code {"error": {...}}}, for routes outside JAX-RS. */
  public static Map<String, Object> body(String type, String code, String message, String param) {
    Map<String, Object> error = new LinkedHashMap<>();
    error.put("message", message);
    error.put("type", type);
    error.put("param", param);
    error.put("code", code);
    return Map.of("error", error);
  }

  /** 400: a request field breaks a rule; {@code param} names it. */
  public static WebApplicationException invalid(String param, String message) {
    return new WebApplicationException(
        response(400, "invalid_request_error", "invalid_value", message, param));
  }

  /** 404: nothing of that id for this tenant (other tenants' objects look the same). */
  public static WebApplicationException notFound(String code, String message, String param) {
    return new WebApplicationException(
        response(404, "invalid_request_error", code, message, param));
  }

  /** 413: the upload is over the configured cap. */
  public static WebApplicationException tooLarge(String message) {
    return new WebApplicationException(
        response(413, "invalid_request_error", "file_too_large", message, "file"));
  }
}
