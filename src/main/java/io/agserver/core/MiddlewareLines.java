package io.agserver.core;

import io.agserver.middleware.MiddlewareType;
import io.agserver.AGAction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import io.agserver.middleware.AGMiddleware;
import io.agserver.protocol.AGError;
import io.agserver.stream.AGStream;

/**
 * The four middleware lines of a server. Each line is a chain: the CDI beans of its interface in
 * {@code @Priority} order, then the function set with {@code setMiddleware}, which consumes a
 * stream of actions per socket as in the original. A line with nothing on it costs one check.
 */
public final class MiddlewareLines {


  private final ServerContext server;
  private final Decisions decisions;

  /** How the core waits for an action's decision, which only the action's package may read. */
  public interface Decisions {
    /** Completes with the data to use, or fails with what {@link #blockedWith} unpacks. */
    CompletableFuture<Object> of(AGAction action);

    /** The error a blocked action was blocked with (null for none), from its decision's failure. */
    Throwable blockedWith(Throwable failure);
  }
  private final Map<MiddlewareType, List<AGMiddleware>> beans = new ConcurrentHashMap<>();
  private final Map<MiddlewareType, Consumer<AGStream<AGAction>>> functions = new ConcurrentHashMap<>();

  public MiddlewareLines(ServerContext server, Decisions decisions) {
    this.server = server;
    this.decisions = decisions;
  }

  /** Installs the beans of one line, ordered by priority (lowest first). */
  public void setBeans(MiddlewareType line, List<? extends AGMiddleware> chain, java.util.function.ToIntFunction<AGMiddleware> priority) {
    List<AGMiddleware> sorted = new ArrayList<>(chain);
    sorted.sort(Comparator.comparingInt(priority));
    if (sorted.isEmpty()) {
      beans.remove(line);
    } else {
      beans.put(line, List.copyOf(sorted));
    }
  }

  public void setFunction(MiddlewareType line, Consumer<AGStream<AGAction>> function) {
    if (functions.putIfAbsent(line, function) != null) {
      throw AGError.invalidAction("Middleware " + line + " type has already been set");
    }
  }

  public void removeFunction(MiddlewareType line) {
    functions.remove(line);
  }

  public boolean hasFunction(MiddlewareType line) {
    return functions.containsKey(line);
  }

  /** True when anything sits on the line. */
  public boolean has(MiddlewareType line) {
    return beans.containsKey(line) || functions.containsKey(line);
  }

  /** A new stream of actions for the line's function, handed to it now; null without a function. */
  public AGStream<AGAction> openStream(MiddlewareType line) {
    Consumer<AGStream<AGAction>> function = functions.get(line);
    if (function == null) {
      return null;
    }
    AGStream<AGAction> stream = new AGStream<>();
    try {
      function.accept(stream);
    } catch (RuntimeException e) {
      server.emitWarning(e);
    }
    return stream;
  }

  /**
   * Runs the action through the line. Completes with the data to use (the action's, or what a
   * middleware allowed it with); fails with the error the client gets, after emitting the
   * middleware's own error on the socket (or the server) when middlewareEmitFailures is on.
   */
  public CompletableFuture<Object> process(MiddlewareType line, AGAction action, AGStream<AGAction> stream, SocketContext socket) {
    List<AGMiddleware> chain = beans.getOrDefault(line, List.of());
    CompletableFuture<Object> result = new CompletableFuture<>();
    runLink(line, chain, 0, action, action, stream, socket, result);
    return result;
  }

  private void runLink(MiddlewareType line, List<AGMiddleware> chain, int index, AGAction original, AGAction current,
      AGStream<AGAction> stream, SocketContext socket, CompletableFuture<Object> result) {
    if (index == chain.size()) {
      if (stream == null) {
        result.complete(current.data());
        return;
      }
      stream.write(current);
    } else {
      consult(chain.get(index), current);
    }
    decisions.of(current).whenComplete((data, failure) -> {
      if (failure == null) {
        if (index == chain.size()) {
          result.complete(data);
        } else {
          runLink(line, chain, index + 1, original, current.withData(data), stream, socket, result);
        }
        return;
      }
      Throwable error = decisions.blockedWith(failure);
      result.completeExceptionally(blockedError(line, original, error, socket));
    });
  }

  /** Calls one bean; an undecided action is allowed when the bean's stage completes. */
  private static void consult(AGMiddleware middleware, AGAction action) {
    CompletionStage<Void> stage;
    try {
      stage = middleware.handle(action);
    } catch (RuntimeException | Error e) {
      decide(action, e);
      return;
    }
    if (stage == null) {
      decide(action, null);
      return;
    }
    stage.whenComplete((ok, failure) -> decide(action,
        failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure));
  }

  private static void decide(AGAction action, Throwable failure) {
    if (action.isDecided()) {
      return;
    }
    try {
      if (failure != null) {
        action.block(failure);
      } else {
        action.allow();
      }
    } catch (AGError decidedMeanwhile) {
      // The bean decided from another thread at the same moment: its decision stands.
    }
  }

  private Throwable blockedError(MiddlewareType line, AGAction action, Throwable error, SocketContext socket) {
    String message = "The " + action.type() + " AGAction was blocked by " + line + " middleware";
    Throwable clientError;
    if (error == null) {
      error = AGError.silentMiddlewareBlocked(message, line.value());
      clientError = error;
    } else if (error instanceof AGError ag && Boolean.TRUE.equals(ag.get("silent"))) {
      clientError = AGError.silentMiddlewareBlocked(message, line.value());
    } else {
      clientError = error;
    }
    if (server.options().middlewareEmitFailures()) {
      if (socket != null) {
        socket.emitError(error);
      } else {
        server.emitWarning(error);
      }
    }
    return clientError;
  }
}
