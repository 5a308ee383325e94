package io.agserver.event;

import java.util.Map;

import io.agserver.AGServerSocket;
import io.agserver.protocol.AGError;

/** The events of one socket, as its {@code listener(name)} streams carry them. */
public sealed interface AGSocketEvent {

  /** An error on this socket; also emitted as a warning on the server. */
  record Error(Throwable error) implements AGSocketEvent {}

  /** A message that is neither an event nor a response; {@code message} is a String or a ByteBuffer. */
  record Raw(Object message) implements AGSocketEvent {}

  /** Every inbound message, before it is processed; a String or a ByteBuffer. */
  record Message(Object message) implements AGSocketEvent {}

  record Connect(String id, long pingTimeout, boolean isAuthenticated, AGError authError) implements AGSocketEvent {}

  record Disconnect(int code, String reason) implements AGSocketEvent {}

  record ConnectAbort(int code, String reason) implements AGSocketEvent {}

  record Close(int code, String reason) implements AGSocketEvent {}

  record Subscribe(String channel, Map<String, Object> subscriptionOptions) implements AGSocketEvent {}

  record Unsubscribe(String channel) implements AGSocketEvent {}

  record BadAuthToken(AGError authError, String signedAuthToken) implements AGSocketEvent {}

  record Authenticate(Map<String, Object> authToken) implements AGSocketEvent {}

  record Deauthenticate(Map<String, Object> oldAuthToken) implements AGSocketEvent {}

  record AuthStateChange(AGServerSocket.AuthState oldAuthState, AGServerSocket.AuthState newAuthState, Map<String, Object> authToken)
      implements AGSocketEvent {}

  record AuthTokenSigned(String signedAuthToken) implements AGSocketEvent {}

  /** The last event of a socket: its streams are cleaned up after it. */
  record End() implements AGSocketEvent {}
}
