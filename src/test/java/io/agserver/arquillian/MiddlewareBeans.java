package io.agserver.arquillian;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;

import io.agserver.AGAction;
import io.agserver.middleware.InboundMiddleware;
import io.agserver.protocol.AGError;

/**
 * Two inbound middleware beans, ordered by @Priority (lowest first): each appends its name to the
 * "middleware" list of an arq.greet invocation's data; the second decides late (from another
 * thread) and blocks arq.forbidden.
 */
public final class MiddlewareBeans {

  private MiddlewareBeans() {}

  static Map<String, Object> withStep(Object data, String step) {
    Map<String, Object> copy = new LinkedHashMap<>();
    List<Object> steps = new ArrayList<>();
    if (data instanceof Map<?, ?> map) {
      map.forEach((key, value) -> copy.put(String.valueOf(key), value));
      if (map.get("middleware") instanceof List<?> list) {
        steps.addAll(list);
      }
    }
    steps.add(step);
    copy.put("middleware", steps);
    return copy;
  }

  // Declared second, runs first: the order comes from @Priority, not from the class names.
  @ApplicationScoped
  @Priority(20)
  public static class Second implements InboundMiddleware {
    @Override
    public CompletionStage<Void> handle(AGAction action) {
      if (!AGAction.INVOKE.equals(action.type())) {
        return null;
      }
      return CompletableFuture.runAsync(() -> {
        if ("arq.greet".equals(action.procedure())) {
          action.allow(withStep(action.data(), "second"));
        } else if ("arq.forbidden".equals(action.procedure())) {
          action.block(new AGError("ArqForbiddenError", "Blocked by an Arquillian middleware bean"));
        }
      }, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
    }
  }

  @ApplicationScoped
  @Priority(10)
  public static class First implements InboundMiddleware {
    @Override
    public CompletionStage<Void> handle(AGAction action) {
      if (AGAction.INVOKE.equals(action.type()) && "arq.greet".equals(action.procedure())) {
        action.allow(withStep(action.data(), "first"));
      }
      return null;
    }
  }
}
