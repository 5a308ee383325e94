package io.agserver;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.time.Duration;
import java.time.InstantSource;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.enterprise.inject.spi.CDI;

import org.eclipse.microprofile.config.ConfigProvider;

import io.agserver.middleware.MiddlewareType;
import io.agserver.cdi.CdiEventBridge;
import io.agserver.auth.AuthEngine;
import io.agserver.auth.jwt.JwtKeys;
import io.agserver.auth.jwt.JwtAuthEngine;
import io.agserver.config.AGServerOptions;
import io.agserver.event.AGErrorEvent;
import io.agserver.event.AGHandshakeEvent;
import io.agserver.event.AGReadyEvent;
import io.agserver.event.AGWarningEvent;
import io.agserver.core.AGScheduler;
import io.agserver.core.Connection;
import io.agserver.core.Connections;
import io.agserver.core.MiddlewareLines;
import io.agserver.core.ServerContext;
import io.agserver.core.IdGenerator;
import io.agserver.core.ManagedThreads;
import io.agserver.core.SenderStatus;
import io.agserver.core.ServerStatus;
import io.agserver.core.WarmUpGate;
import io.agserver.codec.AGCodec;
import io.agserver.codec.JsonCodec;
import io.agserver.ops.ConnectionLimits;
import io.agserver.ops.ConnectionSlot;
import io.agserver.ops.Refusals;
import io.agserver.ops.WarningLog;
import io.agserver.ops.MetricsBinding;
import io.agserver.ops.ServerFigures;
import io.agserver.pubsub.AGExchange;
import io.agserver.pubsub.ChannelFeatures;
import io.agserver.pubsub.HistoryOptions;
import io.agserver.pubsub.AGSimpleBroker;
import io.agserver.pubsub.BrokerEngine;
import io.agserver.redis.RedisBroker;
import io.agserver.stream.AGStream;
import io.agserver.stream.AsyncStreamEmitter;
import io.agserver.transport.AGTransport;

/**
 * The SocketCluster server of this application: its options, its sockets and its events.
 * Every server event is written to its {@code listener(name)} stream and, when a CDI container
 * hosts the server, fired as a CDI event of its own type (see {@code io.agserver.event}).
 */
@ApplicationScoped
public class AGServer extends AsyncStreamEmitter {

  private static final Logger LOG = Logger.getLogger(AGServer.class.getName());

  private AGServerOptions options;
  // Replaceable at run time (setCodecEngine): volatile, so every socket's thread sees the new one.
  private volatile AGCodec codec;
  private Consumer<Object> eventSink;
  private AGScheduler scheduler;
  private ScheduledFuture<?> sweep;
  private final IdGenerator ids = new IdGenerator();
  private final Map<String, AGServerSocket> clients = new ConcurrentHashMap<>();
  private final Map<String, AGServerSocket> pendingClients = new ConcurrentHashMap<>();
  // The server's own warm-up connections, pending or connected: never among the clients.
  private final Map<String, AGServerSocket> warmUpSockets = new ConcurrentHashMap<>();
  private final WarmUpGate warmUpGate = new WarmUpGate();
  // Written by the sweep alone (by the scheduler's clock); read by the liveness check.
  private volatile long lastSweepAt;
  private long sweepPeriod;
  // The transport's sender threads, once it has started (see Connections.transportStarted).
  private volatile Supplier<SenderStatus> senders;
  private volatile boolean ready;
  private volatile boolean closed;
  // Graceful shutdown: draining is set first (readiness down, new sockets refused), then the
  // drain's turns are fixed; the sweep hands them out and watches the drain end.
  private volatile boolean draining;
  private volatile Drain drain;
  private final ServerFigures figures = new ServerFigures(new LiveFigures());
  // The export of the figures to MicroProfile Metrics, when the runtime has it (CDI only); or null.
  private MetricsBinding metrics;
  public static final MiddlewareType MIDDLEWARE_HANDSHAKE = MiddlewareType.HANDSHAKE;
  public static final MiddlewareType MIDDLEWARE_INBOUND_RAW = MiddlewareType.INBOUND_RAW;
  public static final MiddlewareType MIDDLEWARE_INBOUND = MiddlewareType.INBOUND;
  public static final MiddlewareType MIDDLEWARE_OUTBOUND = MiddlewareType.OUTBOUND;

  private final ServerSide context = new ServerSide();
  private final WarmUpSide warmUpContext = new WarmUpSide();
  private final MiddlewareLines middleware = new MiddlewareLines(context, new MiddlewareLines.Decisions() {
    @Override
    public CompletableFuture<Object> of(AGAction action) {
      return action.decision();
    }

    @Override
    public Throwable blockedWith(Throwable failure) {
      Throwable blocked = io.agserver.core.Failures.unwrap(failure);
      return blocked instanceof AGAction.Blocked b ? b.error : blocked;
    }
  });
  private BrokerEngine broker;
  private AGExchange exchange;
  private ChannelFeatures channelFeatures;
  private volatile AuthEngine authEngine;
  private String pingMessage;
  private String pongMessage;
  private Refusals refusals;
  private WarningLog warningLog;
  /** Null without connection limits. */
  private ConnectionLimits connectionLimits;

  /** For CDI: the container builds the server from MicroProfile Config in {@link #init}. */
  protected AGServer() {}

  @PostConstruct
  void init() {
    AGServerOptions configured = AGServerOptions.fromConfig(ConfigProvider.getConfig());
    authEngine = applicationAuthEngine(configured);
    start(configured, null, new CdiEventBridge(CDI.current().getBeanManager()),
        ManagedThreads.threadFactory().orElse(null), ManagedThreads.executor().orElse(null), null);
    installMiddlewareBeans();
    metrics = MetricsBinding.start(figures, scheduler);
  }

  /** Every CDI bean of a middleware line interface, ordered by its class's {@code @Priority}. */
  private void installMiddlewareBeans() {
    List<io.agserver.middleware.AGMiddleware> beans = new java.util.ArrayList<>();
    Map<io.agserver.middleware.AGMiddleware, Integer> priorities = new java.util.IdentityHashMap<>();
    CDI.current().select(io.agserver.middleware.AGMiddleware.class).handles().forEach(handle -> {
      io.agserver.middleware.AGMiddleware bean = handle.get();
      jakarta.annotation.Priority priority = handle.getBean().getBeanClass().getAnnotation(jakarta.annotation.Priority.class);
      priorities.put(bean, priority == null ? io.agserver.middleware.AGMiddleware.DEFAULT_PRIORITY : priority.value());
      beans.add(bean);
    });
    setMiddlewareBeans(beans, priorities::get);
  }

  /**
   * The application's AuthEngine bean when it has one; else the default engine, with the
   * MicroProfile JWT keys ({@code mp.jwt.verify.*}) of the configuration.
   */
  private static AuthEngine applicationAuthEngine(AGServerOptions options) {
    var beans = CDI.current().select(AuthEngine.class);
    if (beans.isAmbiguous()) {
      throw new IllegalStateException("More than one AuthEngine bean: keep one, or choose one with @Alternative");
    }
    if (beans.isResolvable()) {
      return beans.get();
    }
    return JwtAuthEngine.fromConfig(options, ConfigProvider.getConfig());
  }

  /**
   * The application stops: drains first (on Payara the sockets are still open here; where the
   * runtime closed them already, or a SIGTERM drained them, this ends at once), then closes.
   */
  @PreDestroy
  void destroy() {
    drainAndWait();
    close();
  }

  /**
   * A server outside CDI (tests, embedding). {@code eventSink} receives every server event
   * object as the CDI bridge would; it may be null.
   */
  public AGServer(AGServerOptions options, AGCodec codec, Consumer<Object> eventSink, ThreadFactory threads) {
    start(options, codec, eventSink, threads, null, null);
  }

  /**
   * As {@link #AGServer(AGServerOptions, AGCodec, Consumer, ThreadFactory)}, with the executor that
   * runs the timer's due work (closes on timeouts, ack timeouts, batch flushes; null for a pool
   * of the server's own) and the clock of every timer decision (null for the system clock).
   */
  public AGServer(AGServerOptions options, AGCodec codec, Consumer<Object> eventSink, ThreadFactory threads,
      Executor workers, InstantSource clock) {
    start(options, codec, eventSink, threads, workers, clock);
  }

  protected void start(AGServerOptions options, AGCodec codec, Consumer<Object> eventSink,
      ThreadFactory threads, Executor workers, InstantSource clock) {
    this.options = options;
    this.codec = codec == null ? JsonCodec.instance() : codec;
    if (authEngine == null) {
      authEngine = new JwtAuthEngine(JwtKeys.from(options));
    }
    this.eventSink = eventSink == null ? event -> {} : eventSink;
    boolean v1 = options.protocolVersion() == 1;
    this.pingMessage = v1 ? "#1" : "";
    this.pongMessage = v1 ? "#2" : "";
    this.scheduler = new AGScheduler(threads, workers, clock);
    this.refusals = new Refusals(scheduler::now, figures);
    this.warningLog = new WarningLog(scheduler::now);
    if (options.limits().limitsConnections()) {
      this.connectionLimits = new ConnectionLimits(options.limits(), options.handshakeTimeout(), scheduler::now,
          refusals);
    }
    this.sweepPeriod = sweepPeriod(options);
    this.lastSweepAt = scheduler.now();
    this.sweep = scheduler.sweepEvery(sweepPeriod, this::sweep);
    this.broker = createBroker(options, threads, scheduler::execute, clock);
    this.broker.setCodecEngine(this.codec);
    this.broker.onError(this::emitWarning);
    if (broker instanceof RedisBroker redis) {
      redis.countPublishesIn(figures);
    }
    this.exchange = new AGExchange(broker, this::emitWarning, figures);
    this.channelFeatures = new ChannelFeatures(options.channelFeatures());
    this.exchange.setChannelFeatures(channelFeatures);
    broker.ready().thenRun(() -> {
      ready = true;
      emit("ready", new AGReadyEvent());
    });
  }

  /**
   * {@code memory} (the default), {@code redis}, or the class name of a {@link BrokerEngine}: a CDI
   * bean of that class when there is one, else an instance made with its no-argument constructor.
   */
  private static BrokerEngine createBroker(AGServerOptions options, ThreadFactory threads, Executor workers,
      InstantSource clock) {
    String name = options.brokerEngine();
    if (name == null || name.isBlank() || name.equals("memory") || name.equals(AGSimpleBroker.class.getName())) {
      return new AGSimpleBroker(clock == null ? InstantSource.system() : clock);
    }
    if (name.equals("redis") || name.equals(RedisBroker.class.getName())) {
      // A command answers in time for the client's own ack timeout to hear of its failure.
      Duration timeout = Duration.ofMillis(Math.min(options.redis().timeout(), Math.max(1, options.ackTimeout() / 2)));
      return new RedisBroker(options.redis(), timeout,
          threads != null ? threads : ManagedThreads.daemonThreads("agserver-redis"), workers);
    }
    try {
      Class<?> type = Class.forName(name, true, Thread.currentThread().getContextClassLoader());
      if (!BrokerEngine.class.isAssignableFrom(type)) {
        throw new IllegalArgumentException(AGServerOptions.PREFIX + "brokerEngine: " + name
            + " is not a " + BrokerEngine.class.getName());
      }
      try {
        var instance = CDI.current().select(type);
        if (instance.isResolvable()) {
          return (BrokerEngine) instance.get();
        }
      } catch (IllegalStateException noCdi) {
        // Outside a CDI container: construct it directly.
      }
      return (BrokerEngine) type.getDeclaredConstructor().newInstance();
    } catch (ReflectiveOperationException e) {
      throw new IllegalArgumentException(AGServerOptions.PREFIX + "brokerEngine: cannot create " + name, e);
    }
  }

  /** Fine enough for the shortest timer, coarse enough to cost nothing with many sockets. */
  static long sweepPeriod(AGServerOptions options) {
    long shortest = Math.min(options.handshakeTimeout(), options.ackTimeout());
    if (!options.pingTimeoutDisabled()) {
      shortest = Math.min(shortest, Math.min(options.pingInterval(), options.pingTimeout()));
    }
    return Math.max(5, Math.min(100, shortest / 20));
  }

  /**
   * The timer's round: every socket checks its deadlines and hands what is due to the workers.
   * Runs on the timer thread, so it never runs application code (see AGServerSocket.tick).
   */
  void sweep() {
    long now = scheduler.now();
    lastSweepAt = now;
    if (connectionLimits != null) {
      connectionLimits.expireUnopened(now);
    }
    refusals.summarize();
    warningLog.summarize();
    Drain draining = drain;
    if (draining != null) {
      for (AGServerSocket socket : draining.schedule.due(now)) {
        socket.drainTurn(now + options.ackTimeout());
      }
    }
    for (AGServerSocket socket : pendingClients.values()) {
      tick(socket, now);
    }
    for (AGServerSocket socket : clients.values()) {
      tick(socket, now);
    }
    if (!warmUpSockets.isEmpty()) {
      for (AGServerSocket socket : warmUpSockets.values()) {
        tick(socket, now);
      }
    }
    if (draining != null) {
      draining.check(now);
    }
  }

  private void tick(AGServerSocket socket, long now) {
    try {
      socket.tick(now);
    } catch (RuntimeException e) {
      emitWarning(e);
    }
  }

  // ---- properties ----

  public AGServerOptions options() {
    return options;
  }

  /** Connected sockets (handshake completed), by id. */
  public Map<String, AGServerSocket> clients() {
    return Collections.unmodifiableMap(clients);
  }

  public int clientsCount() {
    return clients.size();
  }

  /** Sockets still waiting for their {@code #handshake}, by id. */
  public Map<String, AGServerSocket> pendingClients() {
    return Collections.unmodifiableMap(pendingClients);
  }

  public int pendingClientsCount() {
    return pendingClients.size();
  }

  public long ackTimeout() {
    return options.ackTimeout();
  }

  public String host() {
    return options.host();
  }

  public Integer sourcePort() {
    return options.sourcePort();
  }

  public boolean secure() {
    return options.secure();
  }

  public String path() {
    return options.path();
  }

  /** Ready to take connections: the broker is up, and the server neither drains nor is closed. */
  public boolean isReady() {
    // (draining and closed too: the broker's ready callback may race a drain that starts.)
    return ready && !draining && !closed;
  }

  /** Whether a graceful shutdown ({@link #drain}) has started: from then on the server is not ready. */
  public boolean isDraining() {
    return draining;
  }

  // ---- graceful shutdown ----

  /** After drainTime and ackTimeout, the time the last close frames get to reach their clients. */
  static final long CLOSE_GRACE_MILLIS = 2_000;

  // The drain runs while the application stops, when the runtime may no longer read classes from
  // its archive (Liberty, once the WAR has left dropins: ClassFormatError): its classes are loaded
  // with the server's.
  private static final List<Class<?>> DRAIN_CLASSES = List.of(Drain.class, io.agserver.core.DrainSchedule.class);

  /**
   * Starts the graceful shutdown and returns a stage that completes once every socket is closed
   * (at the latest drainTime + ackTimeout + 2 s after the start): readiness goes down at once,
   * new sockets are refused (HTTP 503 at the upgrade, 1001 for one that got past it), and the
   * sockets there now are closed with 1001 one slice at a time over {@code socketcluster.drainTime}
   * (0: all at once), in the order of their ids. A socket whose turn came closes as soon as it
   * owes nothing (every message received handled, every RPC answered, every invoke of the server
   * acknowledged or timed out), at the latest ackTimeout after its turn; until then it works as
   * before. Calling it again returns the same drain's stage.
   */
  public synchronized CompletionStage<Void> drain() {
    Drain current = drain;
    if (current == null) {
      ready = false;
      draining = true;
      long now = scheduler.now();
      List<AGServerSocket> sockets = new java.util.ArrayList<>(clients.values());
      sockets.addAll(pendingClients.values());
      sockets.sort(java.util.Comparator.comparing(AGServerSocket::id));
      long drainTime = options.drainTime();
      current = new Drain(new io.agserver.core.DrainSchedule<>(sockets, now, drainTime),
          now + drainTime + options.ackTimeout() + CLOSE_GRACE_MILLIS);
      drain = current;
      LOG.info("agserver is shutting down: " + sockets.size() + " sockets close over " + drainTime
          + " ms (socketcluster.drainTime); new connections are refused");
      if (closed || sockets.isEmpty()) {
        current.finish(now, false);
      }
    }
    return current.done.copy();
  }

  /**
   * {@link #drain} and waits for its end, at most as long as the drain may take: for the
   * container's stop hooks, which must not let the runtime go on while sockets still close.
   */
  public void drainAndWait() {
    if (scheduler == null) {
      return;
    }
    long bound = options.drainTime() + options.ackTimeout() + 2 * CLOSE_GRACE_MILLIS;
    try {
      drain().toCompletableFuture().get(bound, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.log(Level.WARNING, "agserver's drain did not end in " + bound + " ms; the sockets left are dropped", e);
    }
  }

  /**
   * A drain under way: its turns, its deadline, and its end. {@code done} completes on a worker
   * (or in close()), never on the timer thread; {@code firstOpen} and {@code finishQueued} are the
   * timer's own.
   */
  private final class Drain {
    final io.agserver.core.DrainSchedule<AGServerSocket> schedule;
    final long deadline;
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private int firstOpen;
    private boolean finishQueued;

    Drain(io.agserver.core.DrainSchedule<AGServerSocket> schedule, long deadline) {
      this.schedule = schedule;
      this.deadline = deadline;
    }

    /** On the timer thread: ends the drain once every socket is gone, or at its deadline. */
    void check(long now) {
      if (finishQueued || done.isDone()) {
        return;
      }
      List<AGServerSocket> sockets = schedule.sockets();
      while (firstOpen < sockets.size() && sockets.get(firstOpen).drained()) {
        firstOpen++;
      }
      boolean allGone = true;
      for (int i = firstOpen; i < sockets.size() && allGone; i++) {
        allGone = sockets.get(i).drained();
      }
      if (allGone || now >= deadline) {
        finishQueued = true;
        scheduler.execute(() -> finish(now, false));
      }
    }

    /** Ends the drain once, with a line in the log before its waiters go on (the JVM may exit then). */
    synchronized void finish(long now, boolean closing) {
      if (done.isDone()) {
        return;
      }
      long open = schedule.sockets().stream().filter(socket -> !socket.drained()).count();
      if (closing) {
        LOG.info("agserver closed while draining; " + open + " sockets are dropped");
      } else {
        LOG.info("agserver drained in " + (now - schedule.start()) + " ms"
            + (open == 0 ? "" : "; " + open + " sockets did not close in time"));
      }
      done.complete(null);
    }
  }

  /**
   * The server's figures: counts since it started (connections, handshakes, messages, RPCs,
   * publishes, closes by code ...) and what it holds now, for the admin page, health checks and
   * metrics exporters (see README, Operations).
   */
  public ServerFigures figures() {
    return figures;
  }

  // ---- middleware ----

  /**
   * Sets the function of a middleware line ({@link #MIDDLEWARE_HANDSHAKE},
   * {@link #MIDDLEWARE_INBOUND_RAW}, {@link #MIDDLEWARE_INBOUND}, {@link #MIDDLEWARE_OUTBOUND}): it
   * is handed a stream of {@link AGAction}s for each new socket (for each upgrade request on the
   * handshake line) and must allow or block every action. One function per line, as in the
   * original; it runs after the line's CDI middleware beans.
   */
  public void setMiddleware(MiddlewareType type, Consumer<AGStream<AGAction>> middlewareFunction) {
    middleware.setFunction(type, middlewareFunction);
  }

  /** As {@link #setMiddleware(MiddlewareType, Consumer)} with the line's name ("inbound" ...). */
  public void setMiddleware(String type, Consumer<AGStream<AGAction>> middlewareFunction) {
    setMiddleware(MiddlewareType.of(type), middlewareFunction);
  }

  public void removeMiddleware(MiddlewareType type) {
    middleware.removeFunction(type);
  }

  /** Whether a function is set on the line with {@link #setMiddleware}. */
  public boolean hasMiddleware(MiddlewareType type) {
    return middleware.hasFunction(type);
  }

  /**
   * Installs the chain of CDI middleware beans of each line, ordered by priority: done by the
   * container at startup, and usable by tests and embedders.
   */
  public void setMiddlewareBeans(List<? extends io.agserver.middleware.AGMiddleware> beans,
      java.util.function.ToIntFunction<io.agserver.middleware.AGMiddleware> priority) {
    middleware.setBeans(MIDDLEWARE_HANDSHAKE,
        beans.stream().filter(io.agserver.middleware.HandshakeMiddleware.class::isInstance).toList(), priority);
    middleware.setBeans(MIDDLEWARE_INBOUND_RAW,
        beans.stream().filter(io.agserver.middleware.InboundRawMiddleware.class::isInstance).toList(), priority);
    middleware.setBeans(MIDDLEWARE_INBOUND,
        beans.stream().filter(io.agserver.middleware.InboundMiddleware.class::isInstance).toList(), priority);
    middleware.setBeans(MIDDLEWARE_OUTBOUND,
        beans.stream().filter(io.agserver.middleware.OutboundMiddleware.class::isInstance).toList(), priority);
  }

  /** HANDSHAKE_WS for an upgrade request (see {@link Connections#verifyHandshake}). */
  private CompletionStage<Object> verifyHandshake(AGUpgradeRequest request) {
    if (!middleware.has(MIDDLEWARE_HANDSHAKE)) {
      return CompletableFuture.completedFuture(null);
    }
    AGStream<AGAction> stream = middleware.openStream(MIDDLEWARE_HANDSHAKE);
    AGAction action = AGAction.builder(AGAction.HANDSHAKE_WS).request(request).build();
    CompletableFuture<Object> result = middleware.process(MIDDLEWARE_HANDSHAKE, action, stream, null);
    if (stream != null) {
      result.whenComplete((ok, error) -> stream.close());
    }
    return result;
  }

  /** The server's pub/sub client: publish to channels, consume them. */
  /**
   * Channels matching {@code pattern} ({@code *}: any run of characters) keep history as
   * {@code options} says, beside those of {@code socketcluster.history.channels}; a rule added
   * later wins for a channel two rules match. Add rules before clients publish on them.
   */
  public void keepHistory(String pattern, HistoryOptions options) {
    channelFeatures.keepHistory(pattern, options);
  }

  /** Channels matching {@code pattern} track presence, beside those of {@code socketcluster.presence.channels}. */
  public void trackPresence(String pattern) {
    channelFeatures.trackPresence(pattern);
  }

  /** Which channels keep history and track presence. */
  public ChannelFeatures channelFeatures() {
    return channelFeatures;
  }

  public AGExchange exchange() {
    return exchange;
  }

  public BrokerEngine broker() {
    return broker;
  }

  /** Signs and verifies the sockets' auth tokens. */
  public AuthEngine authEngine() {
    return authEngine;
  }

  /** Replaces the auth engine (the original's setAuthEngine); affects tokens from now on. */
  public void setAuthEngine(AuthEngine authEngine) {
    this.authEngine = Objects.requireNonNull(authEngine, "authEngine");
  }

  public AGCodec codec() {
    return codec;
  }

  /** Replaces the wire codec (sc-formatter by default); affects sockets from now on. */
  public void setCodecEngine(AGCodec codec) {
    this.codec = Objects.requireNonNull(codec, "codec");
    broker.setCodecEngine(codec);
  }

  public String generateId() {
    return ids.generateId();
  }

  /**
   * Where the transport hands over its connections: a CDI bean of the application (the Jakarta
   * WebSocket endpoint takes it from there), and for embedders and tests this method.
   */
  @Produces
  Connections connections() {
    return context;
  }

  /** What the health checks and the warm-up read of this server (io.agserver.ops). */
  @Produces
  ServerStatus status() {
    return context;
  }

  // ---- sockets ----

  /** See {@link Connections#accept}; the socket itself for tests in this package. */
  AGServerSocket accept(AGTransport transport, AGUpgradeRequest request) {
    return accept(transport, request, null);
  }

  /** See {@link Connections#accept(AGTransport, AGUpgradeRequest, ConnectionSlot)}. */
  AGServerSocket accept(AGTransport transport, AGUpgradeRequest request, ConnectionSlot upgradeSlot) {
    if (warmUpGate.admits(request)) {
      // The server's own connection counts under no limit (the upgrade filter takes it no slot).
      if (upgradeSlot != null) {
        upgradeSlot.releaseUnclaimed();
      }
      return acceptWarmUp(transport, request);
    }
    ConnectionLimits.Admission admission = null;
    if (connectionLimits != null) {
      admission = connectionLimits.claim(upgradeSlot, request.remoteAddress(),
          connectionLimits.addressHeader() == null ? null : request.headers().get(connectionLimits.addressHeader()));
    }
    ConnectionSlot slot = admission == null ? null : admission.slot();
    AGServerSocket socket;
    try {
      socket = new AGServerSocket(generateId(), this, context, transport, request, slot);
    } catch (RuntimeException | Error e) {
      if (slot != null) {
        slot.release();
      }
      throw e;
    }
    if (admission != null && !admission.admitted()) {
      socket.refuse(io.agserver.protocol.CloseCodes.TRY_AGAIN_LATER, admission.refusal().message());
      return socket;
    }
    if (closed || draining) {
      socket.refuse(io.agserver.protocol.CloseCodes.GOING_AWAY, AGServerSocket.SHUTTING_DOWN);
      return socket;
    }
    socket.openMiddlewareStreams(middleware);
    pendingClients.put(socket.id(), socket);
    if (closed || draining) {
      // close() or drain() ran meanwhile and may not have seen this socket.
      pendingClients.remove(socket.id(), socket);
      socket.refuse(io.agserver.protocol.CloseCodes.GOING_AWAY, AGServerSocket.SHUTTING_DOWN);
      return socket;
    }
    figures.connectionAccepted();
    emit("handshake", new AGHandshakeEvent(socket));
    return socket;
  }

  /** The connection limits, for tests in this package; null without them. */
  ConnectionLimits connectionLimits() {
    return connectionLimits;
  }

  /**
   * One of the server's own warm-up connections (see {@link WarmUpGate}): the same socket on the
   * same paths, but its server context runs no middleware and raises no server event, and it is
   * kept apart from the clients, so that no application code sees it.
   */
  private AGServerSocket acceptWarmUp(AGTransport transport, AGUpgradeRequest request) {
    AGServerSocket socket = new AGServerSocket(generateId(), this, warmUpContext, transport, request, null);
    warmUpSockets.put(socket.id(), socket);
    if (closed) {
      warmUpSockets.remove(socket.id(), socket);
      socket.refuse(io.agserver.protocol.CloseCodes.GOING_AWAY, "Server is shutting down");
    }
    return socket;
  }

  /** From pending to connected: called under the socket's state lock, so a close cannot interleave. */
  void socketOpened(AGServerSocket socket) {
    if (socket.serverContext() == warmUpContext) {
      return;
    }
    pendingClients.remove(socket.id(), socket);
    clients.put(socket.id(), socket);
    figures.handshake();
  }

  /** Once per accepted socket, with the code it closed with. */
  void socketClosed(AGServerSocket socket, int code) {
    if (socket.serverContext() == warmUpContext) {
      warmUpSockets.remove(socket.id(), socket);
      return;
    }
    clients.remove(socket.id(), socket);
    pendingClients.remove(socket.id(), socket);
    figures.connectionClosed(code);
  }

  /** Ends the warm-up: no more warm-up connections are let in, and those still open are closed. */
  private void closeWarmUp() {
    warmUpGate.close();
    for (AGServerSocket socket : List.copyOf(warmUpSockets.values())) {
      socket.destroy(io.agserver.protocol.CloseCodes.GOING_AWAY, null);
    }
  }

  /** Stops accepting work and drops every connection at once (see {@link #drain} for the graceful way). */
  public void close() {
    ready = false;
    closed = true;
    Drain draining = drain;
    if (draining != null && scheduler != null) {
      draining.finish(scheduler.now(), true);
    }
    for (AGServerSocket socket : List.copyOf(clients.values())) {
      socket.terminate();
      socket.destroy(io.agserver.protocol.CloseCodes.GOING_AWAY, null);
    }
    for (AGServerSocket socket : List.copyOf(pendingClients.values())) {
      socket.terminate();
      socket.destroy(io.agserver.protocol.CloseCodes.GOING_AWAY, null);
    }
    warmUpGate.close();
    for (AGServerSocket socket : List.copyOf(warmUpSockets.values())) {
      socket.terminate();
      socket.destroy(io.agserver.protocol.CloseCodes.GOING_AWAY, null);
    }
    if (sweep != null) {
      sweep.cancel(false);
    }
    if (scheduler != null) {
      scheduler.close();
    }
    if (broker != null) {
      broker.close();
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  // ---- events ----

  /** Writes the event to its listener stream and hands it to the CDI bridge. */
  @Override
  protected void emit(String name, Object event) {
    super.emit(name, event);
    try {
      eventSink.accept(event);
    } catch (RuntimeException e) {
      // An observer's failure must not break the socket that emitted the event.
      LOG.log(Level.WARNING, "An observer of " + name + " failed", e);
    }
  }

  public void emitError(Throwable error) {
    emit("error", new AGErrorEvent(error));
  }

  public void emitWarning(Throwable warning) {
    if (warningLog != null) {
      warningLog.record(warning);
    }
    emit("warning", new AGWarningEvent(warning));
  }

  /** What the server holds, read for its figures when they are read. */
  private final class LiveFigures implements ServerFigures.Live {

    @Override
    public int connections() {
      return pendingClients.size() + clients.size();
    }

    @Override
    public int clients() {
      return clients.size();
    }

    @Override
    public long subscriptions() {
      long count = 0;
      for (AGServerSocket socket : clients.values()) {
        count += socket.subscriptionCount();
      }
      return count;
    }

    @Override
    public int channels() {
      BrokerEngine engine = broker;
      return engine == null ? 0 : engine.channelCount();
    }

    @Override
    public long outboundWaitingCharacters() {
      return sumOverSockets(AGServerSocket::outboundWaitingCharacters);
    }

    @Override
    public long outboundWaitingFrames() {
      return sumOverSockets(AGServerSocket::getOutboundBackpressure);
    }

    /** Over every socket, before and after its handshake. */
    private long sumOverSockets(java.util.function.ToLongFunction<AGServerSocket> figure) {
      long sum = 0;
      for (AGServerSocket socket : pendingClients.values()) {
        sum += figure.applyAsLong(socket);
      }
      for (AGServerSocket socket : clients.values()) {
        sum += figure.applyAsLong(socket);
      }
      return sum;
    }

    @Override
    public List<ServerFigures.ChannelFigure> topChannels(int limit) {
      BrokerEngine engine = broker;
      if (engine == null || limit <= 0) {
        return List.of();
      }
      java.util.PriorityQueue<ServerFigures.ChannelFigure> top = new java.util.PriorityQueue<>(
          java.util.Comparator.comparingInt(ServerFigures.ChannelFigure::subscribers));
      for (String channel : engine.subscriptions()) {
        top.offer(new ServerFigures.ChannelFigure(channel, engine.subscriberCount(channel)));
        if (top.size() > limit) {
          top.poll();
        }
      }
      List<ServerFigures.ChannelFigure> most = new java.util.ArrayList<>(top);
      most.sort(java.util.Comparator.comparingInt(ServerFigures.ChannelFigure::subscribers).reversed()
          .thenComparing(ServerFigures.ChannelFigure::channel));
      return most;
    }

    @Override
    public List<ServerFigures.SocketFigure> slowestSockets(int limit) {
      if (limit <= 0) {
        return List.of();
      }
      java.util.PriorityQueue<ServerFigures.SocketFigure> top = new java.util.PriorityQueue<>(
          java.util.Comparator.comparingLong(ServerFigures.SocketFigure::waitingCharacters));
      for (Map<String, AGServerSocket> sockets : List.of(pendingClients, clients)) {
        for (AGServerSocket socket : sockets.values()) {
          long waiting = socket.outboundWaitingCharacters();
          if (waiting > 0) {
            top.offer(new ServerFigures.SocketFigure(socket.id(), socket.remoteAddress(), waiting,
                socket.getOutboundBackpressure()));
            if (top.size() > limit) {
              top.poll();
            }
          }
        }
      }
      List<ServerFigures.SocketFigure> most = new java.util.ArrayList<>(top);
      most.sort(java.util.Comparator.comparingLong(ServerFigures.SocketFigure::waitingCharacters).reversed());
      return most;
    }

    @Override
    public ServerFigures.SocketFigure socket(String id) {
      AGServerSocket socket = id == null ? null : clients.get(id);
      if (socket == null && id != null) {
        socket = pendingClients.get(id);
      }
      return socket == null ? null : new ServerFigures.SocketFigure(socket.id(), socket.remoteAddress(),
          socket.outboundWaitingCharacters(), socket.getOutboundBackpressure());
    }
  }

  /** The server as its sockets' machinery and its transport see it. */
  private final class ServerSide implements ServerContext, Connections, ServerStatus {

    @Override
    public AGServer server() {
      return AGServer.this;
    }

    @Override
    public void emit(String name, Object event) {
      AGServer.this.emit(name, event);
    }

    @Override
    public MiddlewareLines middleware() {
      return middleware;
    }

    @Override
    public AGScheduler scheduler() {
      return scheduler;
    }

    @Override
    public String pingMessage() {
      return pingMessage;
    }

    @Override
    public String pongMessage() {
      return pongMessage;
    }

    @Override
    public Refusals refusals() {
      return refusals;
    }

    @Override
    public ConnectionLimits connectionLimits() {
      return connectionLimits;
    }

    @Override
    public CompletionStage<Object> verifyHandshake(AGUpgradeRequest request) {
      return AGServer.this.verifyHandshake(request);
    }

    @Override
    public Connection accept(AGTransport transport, AGUpgradeRequest request) {
      return AGServer.this.accept(transport, request).connection();
    }

    @Override
    public Connection accept(AGTransport transport, AGUpgradeRequest request, ConnectionSlot slot) {
      return AGServer.this.accept(transport, request, slot).connection();
    }

    @Override
    public boolean isWarmUp(AGUpgradeRequest request) {
      return warmUpGate.admits(request);
    }

    @Override
    public void transportStarted(Supplier<SenderStatus> status) {
      senders = status;
    }

    // ---- ServerStatus ----

    @Override
    public long now() {
      return scheduler.now();
    }

    @Override
    public long lastSweepAt() {
      return lastSweepAt;
    }

    @Override
    public long sweepPeriodMillis() {
      return sweepPeriod;
    }

    @Override
    public java.util.Optional<SenderStatus> senders() {
      Supplier<SenderStatus> status = senders;
      return status == null ? java.util.Optional.empty() : java.util.Optional.of(status.get());
    }

    @Override
    public WarmUpGate warmUpGate() {
      return warmUpGate;
    }

    @Override
    public int warmUpSocketsCount() {
      return warmUpSockets.size();
    }

    @Override
    public void closeWarmUp() {
      AGServer.this.closeWarmUp();
    }
  }

  /**
   * The server as a warm-up socket's machinery sees it: the same, but with no middleware and no
   * server events (the one it needs, its handshake's completion, goes to the warm-up), and its
   * failures logged rather than raised as warnings. Nothing of the application runs for it.
   */
  private final class WarmUpSide implements ServerContext {

    private final MiddlewareLines none = new MiddlewareLines(this, new MiddlewareLines.Decisions() {
      @Override
      public CompletableFuture<Object> of(AGAction action) {
        return action.decision();
      }

      @Override
      public Throwable blockedWith(Throwable failure) {
        return failure;
      }
    });

    @Override
    public AGServer server() {
      return AGServer.this;
    }

    @Override
    public void emit(String name, Object event) {
      if (event instanceof io.agserver.event.AGConnectionEvent connection) {
        warmUpGate.connected(connection.socket());
      }
    }

    @Override
    public void emitWarning(Throwable warning) {
      LOG.log(Level.FINE, "agserver warm-up connection", warning);
    }

    @Override
    public Refusals refusals() {
      return refusals;
    }

    @Override
    public boolean limitsApply() {
      return false;
    }

    @Override
    public MiddlewareLines middleware() {
      return none;
    }

    @Override
    public AGScheduler scheduler() {
      return scheduler;
    }

    @Override
    public String pingMessage() {
      return pingMessage;
    }

    @Override
    public String pongMessage() {
      return pongMessage;
    }
  }
}

