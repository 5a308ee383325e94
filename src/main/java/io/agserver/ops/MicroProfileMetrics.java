package io.agserver.ops;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import jakarta.enterprise.inject.spi.AnnotatedField;
import jakarta.enterprise.inject.spi.BeanManager;
import jakarta.enterprise.inject.spi.CDI;
import jakarta.enterprise.inject.spi.InjectionPoint;

import org.eclipse.microprofile.metrics.Counter;
import org.eclipse.microprofile.metrics.Metadata;
import org.eclipse.microprofile.metrics.MetricID;
import org.eclipse.microprofile.metrics.MetricRegistry;
import org.eclipse.microprofile.metrics.MetricUnits;
import org.eclipse.microprofile.metrics.Tag;
import org.eclipse.microprofile.metrics.Timer;

import io.agserver.core.AGScheduler;

/**
 * The server's figures as MicroProfile Metrics 5.1 metrics in the application's registry: gauges
 * read from the server when scraped, counters brought up to the figures' counts every
 * {@link #SYNC_MILLIS} ms, and two timers fed each duration as it is measured. Loaded only by
 * {@link MetricsBinding}, once the API is known to be there.
 *
 * <p>Why counters are brought up to date rather than counted twice: MicroProfile Metrics has no
 * counter whose value a function gives (a gauge would be one, but Prometheus would then not see
 * a counter), and the figures must be counted where MicroProfile Metrics is missing too. So the
 * hot paths add to the figures only, and a worker adds each count's growth to its counter once a
 * second: a counter is at most that much behind. Durations cannot be summed up later: each goes
 * to its timer as it is measured, one {@code Timer.update} per RPC and per Redis publish.
 */
final class MicroProfileMetrics implements AutoCloseable {

  /** How often counters are brought up to the figures' counts. */
  static final long SYNC_MILLIS = 1000;

  private final MetricRegistry registry;
  private final ServerFigures figures;
  private final List<MetricID> registered = new ArrayList<>();
  private final List<Followed> counters = new ArrayList<>();
  // Counters of closes by code, registered when a code is first seen. Guarded by this.
  private final Map<String, Synced> closes = new HashMap<>();
  private ScheduledFuture<?> syncing;

  /** A counter and how much of its figure it has been given. Used under the exporter's lock. */
  private static final class Synced {
    final Counter counter;
    long exported;

    Synced(Counter counter) {
      this.counter = counter;
    }

    void syncTo(long count) {
      if (count > exported) {
        counter.inc(count - exported);
        exported = count;
      }
    }
  }

  /** A counter and the figure it follows. */
  private record Followed(Synced synced, LongSupplier count) {}

  private MicroProfileMetrics(MetricRegistry registry, ServerFigures figures) {
    this.registry = registry;
    this.figures = figures;
  }

  /** The application's registry from CDI, with the figures registered; null if there is none. */
  static MicroProfileMetrics register(ServerFigures figures, AGScheduler scheduler) {
    MetricRegistry registry = applicationRegistry(CDI.current().getBeanManager());
    return registry == null ? null : register(registry, figures, scheduler);
  }

  /** What an injection point of the application's registry would get. */
  private static final class RegistryField {
    MetricRegistry registry;
  }

  /**
   * The application's MetricRegistry bean, or null. Not {@code CDI.current().select(...)}: the
   * registry's producer reads its injection point's annotations (the registry scope) and SmallRye's,
   * Open Liberty's, fails without one; so the lookup goes through an injection point made from a
   * field of the registry's type with no scope on it, which is the application's. (No class of
   * agserver injects MetricRegistry: a runtime without the API would refuse the deployment.)
   */
  static MetricRegistry applicationRegistry(BeanManager beans) {
    if (beans.resolve(beans.getBeans(MetricRegistry.class)) == null) {
      return null;
    }
    AnnotatedField<? super RegistryField> field = beans.createAnnotatedType(RegistryField.class).getFields()
        .iterator().next();
    InjectionPoint point = beans.createInjectionPoint(field);
    return (MetricRegistry) beans.getInjectableReference(point, beans.createCreationalContext(null));
  }

  static MicroProfileMetrics register(MetricRegistry registry, ServerFigures figures, AGScheduler scheduler) {
    MicroProfileMetrics metrics = new MicroProfileMetrics(registry, figures);
    metrics.registerAll();
    metrics.sync();
    metrics.syncing = scheduler.every(SYNC_MILLIS, metrics::sync);
    return metrics;
  }

  private void registerAll() {
    ServerFigures.Live live = figures.live();
    gauge("agserver_connections", "WebSocket connections open, before and after their #handshake", live::connections);
    gauge("agserver_clients", "Sockets past their #handshake", live::clients);
    gauge("agserver_subscriptions", "Channel subscriptions of all sockets", live::subscriptions);
    gauge("agserver_channels", "Channels with at least one subscriber on this instance", live::channels);
    gauge("agserver_outbound_waiting_characters", "Characters queued for clients and not yet written",
        live::outboundWaitingCharacters);
    gauge("agserver_outbound_waiting_frames", "Frames queued for clients and not yet written",
        live::outboundWaitingFrames);

    counter("agserver_connections_accepted", "WebSocket connections accepted", figures::connectionsAccepted);
    counter("agserver_handshakes", "#handshake requests accepted", figures::handshakes);
    counter("agserver_messages_received", "WebSocket messages received from clients", figures::messagesReceived);
    counter("agserver_messages_sent", "WebSocket messages sent to clients, pings included",
        figures::messagesSent);
    counter("agserver_received_bytes", "Payload bytes of the messages received (UTF-8, uncompressed)",
        figures::bytesReceived);
    counter("agserver_sent_bytes", "Payload bytes of the messages sent (UTF-8, uncompressed)", figures::bytesSent);
    counter("agserver_rpcs", "Clients' calls of application procedures answered", figures::rpcs);
    counter("agserver_rpc_errors", "Clients' calls of application procedures answered with an error",
        figures::rpcErrors);
    counter("agserver_publishes", "Publishes that entered this instance (from clients and the server)",
        figures::publishes);
    counter("agserver_deliveries", "Publications queued for a socket of this instance", figures::deliveries);
    for (ServerFigures.CutOff reason : ServerFigures.CutOff.values()) {
      counter("agserver_slow_consumers", "Clients disconnected because they did not read what was sent to them",
          () -> figures.cutOffs(reason), new Tag("reason", reason.tag()));
    }
    counter("agserver_rate_limited_messages", "Client messages refused by the inbound rate limit",
        figures::rateLimitedMessages);
    counter("agserver_broker_publish_errors", "Publish commands to Redis that failed", figures::brokerPublishErrors);

    Timer rpc = timer("agserver_rpc_duration",
        "From the start of handling a client's call of an application procedure to its answer");
    figures.recordRpcDurations(nanos -> rpc.update(Duration.ofNanos(nanos)));
    Timer publish = timer("agserver_broker_publish_duration", "From a publish command to Redis's reply");
    figures.recordBrokerPublishDurations(nanos -> publish.update(Duration.ofNanos(nanos)));
  }

  private <T extends Number> void gauge(String name, String description, Supplier<T> value) {
    registry.gauge(metadata(name, description), value);
    registered.add(new MetricID(name));
  }

  private void counter(String name, String description, LongSupplier count, Tag... tags) {
    counters.add(new Followed(new Synced(registry.counter(metadata(name, description), tags)), count));
    registered.add(new MetricID(name, tags));
  }

  private Timer timer(String name, String description) {
    // Nanoseconds, what a Timer records: both runtimes then export name_seconds in seconds.
    // (Liberty's SmallRye names timers so whatever the unit; Payara adds the base unit only when
    // a metric has one, and with SECONDS would scale its _max and _mean wrongly.)
    Timer timer = registry.timer(Metadata.builder().withName(name).withDescription(description)
        .withUnit(MetricUnits.NANOSECONDS).build());
    registered.add(new MetricID(name));
    return timer;
  }

  private static Metadata metadata(String name, String description) {
    return Metadata.builder().withName(name).withDescription(description).build();
  }

  /** Brings every counter up to its figure; a close code seen for the first time gets its counter. */
  synchronized void sync() {
    for (Followed counter : counters) {
      counter.synced().syncTo(counter.count().getAsLong());
    }
    for (Map.Entry<String, Long> closed : figures.closedByCode().entrySet()) {
      Synced counter = closes.get(closed.getKey());
      if (counter == null) {
        Tag tag = new Tag("code", closed.getKey());
        counter = new Synced(registry.counter(metadata("agserver_connections_closed",
            "Connections closed, by close code"), tag));
        closes.put(closed.getKey(), counter);
        registered.add(new MetricID("agserver_connections_closed", tag));
      }
      counter.syncTo(closed.getValue());
    }
  }

  @Override
  public synchronized void close() {
    if (syncing != null) {
      syncing.cancel(false);
    }
    figures.recordRpcDurations(null);
    figures.recordBrokerPublishDurations(null);
    for (MetricID id : registered) {
      registry.remove(id);
    }
    registered.clear();
  }
}
