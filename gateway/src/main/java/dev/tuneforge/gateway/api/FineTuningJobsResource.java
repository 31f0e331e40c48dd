package dev.tuneforge.gateway.api;

import com.google.protobuf.util.Timestamps;
import dev.tuneforge.gateway.job.JobEvent;
import dev.tuneforge.gateway.job.JobView;
import dev.tuneforge.gateway.job.JobViews;
import dev.tuneforge.platform.messaging.EventPublisher;
import dev.tuneforge.proto.Channels;
import dev.tuneforge.proto.v1.JobCancelRequested;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.reactive.messaging.Channel;
import org.eclipse.microprofile.reactive.messaging.Emitter;

/** {@code /v1/fine_tuning/jobs}: read jobs and their events, request a cancel. */
@Path("/v1/fine_tuning/jobs")
@Produces(MediaType.APPLICATION_JSON)
public class FineTuningJobsResource {
  private final JobViews views;
  private final EventPublisher publisher;
  private final Emitter<JobCancelRequested> control;

  FineTuningJobsResource(
      JobViews views,
      EventPublisher publisher,
      @Channel(Channels.JOBS_CONTROL_OUT) Emitter<JobCancelRequested> control) {
    this.views = views;
    this.publisher = publisher;
    this.control = control;
  }

  /** An OpenAI-style list object. */
  public record ListResponse<T>(String object, List<T> data, boolean has_more) {
    static <T> ListResponse<T> of(List<T> data) {
      return new ListResponse<>("list", data, false);
    }
  }

  @GET
  public ListResponse<JobView> list() {
    return ListResponse.of(views.views());
  }

  @GET
  @Path("/{id}")
  public JobView get(@PathParam("id") String id) {
    return views.view(id).orElseThrow(() -> notFound(id));
  }

  @GET
  @Path("/{id}/events")
  public ListResponse<JobEvent> events(@PathParam("id") String id) {
    return ListResponse.of(views.events(id).orElseThrow(() -> notFound(id)));
  }

  /**
   * Publishes a cancel request on {@code jobs.control} and answers once the broker has it. The job
   * shows {@code cancelled} when the trainer confirms on {@code jobs.status}.
   */
  @POST
  @Path("/{id}/cancel")
  public CompletionStage<JobView> cancel(@PathParam("id") String id) {
    JobView job = get(id);
    JobCancelRequested request =
        JobCancelRequested.newBuilder()
            .setJobId(id)
            .setTenant(job.tenant())
            .setReason("cancelled through the API")
            .setTime(Timestamps.now())
            .build();
    return publisher.publish(control, request).thenApply(done -> job);
  }

  private static NotFoundException notFound(String id) {
    return new NotFoundException(
        jakarta.ws.rs.core.Response.status(404)
            .type(MediaType.APPLICATION_JSON)
            .entity(
                Map.of(
                    "error",
                    Map.of(
                        "code",
                        "job_not_found",
                        "message",
                        "no fine-tuning job " + id,
                        "param",
                        "id")))
            .build());
  }
}
