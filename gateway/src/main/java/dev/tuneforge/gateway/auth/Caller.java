package dev.tuneforge.gateway.auth;

import jakarta.enterprise.context.RequestScoped;

/** The tenant the current request acts for, set by {@link ApiKeyFilter}. */
@RequestScoped
public class Caller {
  private String tenant;

  public String tenant() {
    if (tenant == null) {
      throw new IllegalStateException("no authenticated tenant on this request");
    }
    return tenant;
  }

  void authenticate(String tenant) {
    this.tenant = tenant;
  }
}
