package io.agserver.config;

import java.util.Optional;

/**
 * The admin page ({@code /admin/}): off unless {@code socketcluster.admin.password} is set.
 *
 * @param password {@code socketcluster.admin.password}: what an operator gives (HTTP Basic, any
 *                 user name) to open the page and its JSON endpoints; empty: every {@code /admin/}
 *                 path answers 404, and nothing is sampled for it
 */
public record AdminOptions(Optional<String> password) {

  public static final String PASSWORD = "admin.password";

  public AdminOptions {
    password = password == null ? Optional.empty() : password.filter(value -> !value.isEmpty());
  }

  /** The page is off. */
  public static AdminOptions none() {
    return new AdminOptions(Optional.empty());
  }

  public boolean enabled() {
    return password.isPresent();
  }

  /** Never the password itself: options are logged and printed in failures. */
  @Override
  public String toString() {
    return "AdminOptions[password=" + (password.isPresent() ? "(set)" : "(none)") + "]";
  }
}
