package io.agserver.auth;

/**
 * Options of {@code AGServerSocket.deauthenticate}.
 *
 * @param rejectOnFailedDelivery when true, {@code #removeAuthToken} is an invoke and the returned
 *     stage fails if the client does not acknowledge it
 */
public record DeauthenticateOptions(boolean rejectOnFailedDelivery) {

  public static final DeauthenticateOptions DEFAULTS = new DeauthenticateOptions(false);

  /** {@code #removeAuthToken} as an invoke the client must acknowledge. */
  public static final DeauthenticateOptions REJECT_ON_FAILED_DELIVERY = new DeauthenticateOptions(true);
}
