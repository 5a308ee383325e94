package io.agserver.cdi;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.enterprise.event.Event;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.enterprise.inject.spi.ObserverMethod;

/**
 * Fires server events as CDI events, synchronously to {@code @Observes} and asynchronously to
 * {@code @ObservesAsync} observers. Which kinds of observer exist is resolved once per event
 * type, so an event nobody observes costs a map lookup, and no async task is created for an
 * event without async observers.
 */
public final class CdiEventBridge implements Consumer<Object> {

  private static final Logger LOG = Logger.getLogger(CdiEventBridge.class.getName());

  private record Observers(boolean sync, boolean async) {}

  private final BeanManager beanManager;
  private final Event<Object> events;
  private final Map<Class<?>, Observers> observers = new ConcurrentHashMap<>();

  public CdiEventBridge(BeanManager beanManager) {
    this.beanManager = beanManager;
    this.events = beanManager.getEvent();
  }

  @Override
  public void accept(Object event) {
    Observers kinds = observers.computeIfAbsent(event.getClass(), type -> resolve(event));
    if (kinds.sync()) {
      events.fire(event);
    }
    if (kinds.async()) {
      events.fireAsync(event).exceptionally(error -> {
        LOG.log(Level.WARNING, "An asynchronous observer of " + event.getClass().getSimpleName() + " failed",
            error);
        return null;
      });
    }
  }

  private Observers resolve(Object event) {
    Set<ObserverMethod<? super Object>> methods = beanManager.resolveObserverMethods(event);
    boolean sync = false;
    boolean async = false;
    for (ObserverMethod<?> method : methods) {
      if (method.isAsync()) {
        async = true;
      } else {
        sync = true;
      }
    }
    return new Observers(sync, async);
  }
}
