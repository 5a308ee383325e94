package io.agserver.auth;

/**
 * Options of {@code AGServerSocket.deauthenticate}.
 *
 * @param rejectOnFailedDelivery when true, {@code #removeAuthToken} is an invoke and the returned
 *     stage fails if the client does not acknowledge it
 */
public record DeauthenticateOptions(boolean rejectOnFailedDelivery) {

  public static final DeauthenticateOptions DEFAULTS = new DeauthenticateOptions(false);

  public static DeauthenticateOptions rejectOnFailedDelivery() {
    return new DeauthenticateOptions(true);
  }
}
