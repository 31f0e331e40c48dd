package dev.tuneforge.platform.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Request;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.UUID;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every error of every service in OpenAI's shape ({@code {"error": {message, type, param, code}}}),
 * so an SDK reads it: a body that is not JSON is a 400, a route or method that does not exist a 404
 * or 405, a media type the endpoint does not take a 415, and anything unexpected a 500 that names
 * the exception and an id to find it in the log, never an empty or HTML body.
 */
public class OpenAiErrors {
  private static final Logger LOG = Logger.getLogger(OpenAiErrors.class);

  /** A malformed JSON body (Jackson's parse errors). */
  @ServerExceptionMapper
  public Response malformedJson(JsonProcessingException e) {
    String detail = e.getOriginalMessage() == null ? e.toString() : e.getOriginalMessage();
    return OpenAiError.response(
        400,
        "invalid_request_error",
        "invalid_json",
        "the request body is not valid JSON: " + detail.lines().findFirst().orElse(detail),
        null);
  }

  /**
   * A JAX-RS error: kept as it is when it already carries a body (the services' own OpenAI errors),
   * otherwise given one for its status.
   */
  @ServerExceptionMapper
  public Response webApplication(
      WebApplicationException e,
      Request request,
      UriInfo uri,
      jakarta.ws.rs.core.HttpHeaders headers) {
    Response response = e.getResponse();
    if (response != null && response.hasEntity()) {
      return response;
    }
    int status = response == null ? 500 : response.getStatus();
    if (e.getCause() instanceof JsonProcessingException json) {
      return malformedJson(json);
    }
    String where = request.getMethod() + " /" + uri.getPath().replaceFirst("^/", "");
    String message =
        switch (status) {
          case 404 -> "Unknown request URL: " + where;
          case 405 ->
              "Method "
                  + request.getMethod()
                  + " is not allowed on /"
                  + uri.getPath().replaceFirst("^/", "");
          case 406 ->
              "No answer of "
                  + where
                  + " is in the media type the Accept header asks for ("
                  + headers.getHeaderString("Accept")
                  + ")";
          case 415 ->
              "Unsupported media type for "
                  + where
                  + ": send application/json (or multipart/form-data for uploads)";
          default -> e.getMessage() == null ? "HTTP " + status : e.getMessage();
        };
    return OpenAiError.response(
        status,
        status >= 500 ? "server_error" : "invalid_request_error",
        status == 404 ? "unknown_url" : null,
        message,
        null);
  }

  /** The object store is unreachable: a 503 the client may retry, naming the storage error. */
  @ServerExceptionMapper
  public Response storage(dev.tuneforge.platform.storage.StorageException e) {
    LOG.warnf("storage unavailable: %s", e.getMessage());
    return OpenAiError.response(
        503,
        "server_error",
        "storage_unavailable",
        "the object store is unavailable, retry later: " + e.getMessage(),
        null);
  }

  /**
   * A request body that could not be read: a multipart body cut off before its closing boundary (or
   * the connection lost while reading it) is the client's 400 {@code invalid_multipart}, logged as
   * a warning; any other I/O failure is unexpected.
   */
  @ServerExceptionMapper
  public Response unreadable(java.io.IOException e, Request request, UriInfo uri) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    if (message.contains("multipart")) {
      LOG.warnf(
          "unreadable multipart body on %s %s: %s", request.getMethod(), uri.getPath(), message);
      return OpenAiError.response(
          400,
          "invalid_request_error",
          "invalid_multipart",
          "the multipart body could not be read ("
              + message
              + "); it must end with its closing boundary",
          null);
    }
    return unexpected(new java.io.UncheckedIOException(e));
  }

  /** Anything else: a 500 naming the exception, logged under an id the answer gives. */
  @ServerExceptionMapper
  public Response unexpected(RuntimeException e) {
    String id = UUID.randomUUID().toString();
    LOG.errorf(e, "unexpected error %s", id);
    return OpenAiError.response(
        500,
        "server_error",
        "internal_error",
        "internal error "
            + id
            + ": "
            + e.getClass().getSimpleName()
            + (e.getMessage() == null ? "" : ": " + e.getMessage().lines().findFirst().orElse("")),
        null);
  }
}
