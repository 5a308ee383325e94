package io.agserver.conformance;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;

import io.agserver.AGAction;
import io.agserver.middleware.HandshakeMiddleware;
import io.agserver.middleware.InboundMiddleware;
import io.agserver.middleware.OutboundMiddleware;
import io.agserver.protocol.AGError;

/** The middleware rules of APP.md, as CDI beans (the inbound raw rule is set programmatically). */
final class ConformanceMiddleware {

  private ConformanceMiddleware() {}

  /** reject=ws refuses the upgrade (401); reject=sc answers #handshake with HandshakeRejected, 4501. */
  @ApplicationScoped
  @Priority(100)
  public static class Handshake implements HandshakeMiddleware {
    @Override
    public CompletionStage<Void> handle(AGAction action) {
      String reject = action.request().queryParam("reject").orElse("");
      if (action.type().equals(AGAction.HANDSHAKE_WS) && reject.equals("ws")) {
        action.block();
      } else if (action.type().equals(AGAction.HANDSHAKE_SC) && reject.equals("sc")) {
        action.block(new AGError("HandshakeRejected", "Rejected by middleware").with("statusCode", 4501));
      }
      return null;
    }
  }

  /** Channel, procedure, receiver and token rules of the inbound line. */
  @ApplicationScoped
  @Priority(100)
  public static class Inbound implements InboundMiddleware {
    @Override
    public CompletionStage<Void> handle(AGAction action) {
      switch (action.type()) {
        case SUBSCRIBE -> {
          if (action.channel().startsWith("private-") && action.socket().authToken() == null) {
            action.block(new AGError("AuthorizationError", "Not signed in"));
          }
        }
        case PUBLISH_IN -> {
          if (action.channel().startsWith("readonly-")) {
            action.block();
          } else if (action.channel().startsWith("upper-") && action.data() instanceof String text) {
            action.allow(text.toUpperCase(Locale.ROOT));
          }
        }
        case INVOKE -> {
          if (action.procedure().equals("forbidden")) {
            action.block(new AGError("ForbiddenError", "Forbidden procedure"));
          }
        }
        case TRANSMIT -> {
          if (action.receiver().equals("blocked")) {
            action.block();
          }
        }
        case AUTHENTICATE -> {
          Map<String, Object> token = action.authToken();
          if (token != null && "banned".equals(token.get("username"))) {
            action.block(new AGError("BannedError", "User is banned"));
          }
        }
        default -> {
          // Everything else passes.
        }
      }
      return null;
    }
  }

  /** censored: "bad" becomes "***"; secret-X reaches only the socket signed in as X. */
  @ApplicationScoped
  @Priority(100)
  public static class Outbound implements OutboundMiddleware {
    @Override
    public CompletionStage<Void> handle(AGAction action) {
      String channel = action.channel();
      if (channel.equals("censored") && "bad".equals(action.data())) {
        action.allow("***");
      } else if (channel.startsWith("secret-")) {
        Map<String, Object> token = action.socket().authToken();
        Object username = token == null ? null : token.get("username");
        if (!channel.substring("secret-".length()).equals(username)) {
          action.block();
        }
      }
      return null;
    }
  }
}
