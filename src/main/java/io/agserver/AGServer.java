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

  /** For CDI: the container builds the server from MicroProfile Config in {@link #init}. */
  protected AGServer() {}

  @PostConstruct
  void init() {
    AGServerOptions configured = AGServerOptions.fromConfig(ConfigProvider.getConfig());
    authEngine = applicationAuthEngine(configured);
    start(configured, null, new CdiEventBridge(CDI.current().getBeanManager()),
        ManagedThreads.threadFactory().orElse(null), ManagedThreads.executor().orElse(null), null);
    installMiddlewareBeans();
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

  @PreDestroy
  void destroy() {
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
    this.sweepPeriod = sweepPeriod(options);
    this.lastSweepAt = scheduler.now();
    this.sweep = scheduler.sweepEvery(sweepPeriod, this::sweep);
    this.broker = createBroker(options, threads, scheduler::execute, clock);
    this.broker.setCodecEngine(this.codec);
    this.broker.onError(this::emitWarning);
    this.exchange = new AGExchange(broker, this::emitWarning);
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

  public boolean isReady() {
    return ready;
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
    if (warmUpGate.admits(request)) {
      return acceptWarmUp(transport, request);
    }
    AGServerSocket socket = new AGServerSocket(generateId(), this, context, transport, request);
    if (closed) {
      socket.refuse(io.agserver.protocol.CloseCodes.GOING_AWAY, "Server is shutting down");
      return socket;
    }
    socket.openMiddlewareStreams(middleware);
    pendingClients.put(socket.id(), socket);
    if (closed) {
      // close() ran meanwhile and may not have seen this socket.
      pendingClients.remove(socket.id(), socket);
      socket.refuse(io.agserver.protocol.CloseCodes.GOING_AWAY, "Server is shutting down");
      return socket;
    }
    emit("handshake", new AGHandshakeEvent(socket));
    return socket;
  }

  /**
   * One of the server's own warm-up connections (see {@link WarmUpGate}): the same socket on the
   * same paths, but its server context runs no middleware and raises no server event, and it is
   * kept apart from the clients, so that no application code sees it.
   */
  private AGServerSocket acceptWarmUp(AGTransport transport, AGUpgradeRequest request) {
    AGServerSocket socket = new AGServerSocket(generateId(), this, warmUpContext, transport, request);
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
  }

  void socketClosed(AGServerSocket socket) {
    if (socket.serverContext() == warmUpContext) {
      warmUpSockets.remove(socket.id(), socket);
      return;
    }
    clients.remove(socket.id(), socket);
    pendingClients.remove(socket.id(), socket);
  }

  /** Ends the warm-up: no more warm-up connections are let in, and those still open are closed. */
  private void closeWarmUp() {
    warmUpGate.close();
    for (AGServerSocket socket : List.copyOf(warmUpSockets.values())) {
      socket.destroy(io.agserver.protocol.CloseCodes.GOING_AWAY, null);
    }
  }

  /** Stops accepting work and drops every connection. */
  public void close() {
    ready = false;
    closed = true;
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
    emit("warning", new AGWarningEvent(warning));
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
    public CompletionStage<Object> verifyHandshake(AGUpgradeRequest request) {
      return AGServer.this.verifyHandshake(request);
    }

    @Override
    public Connection accept(AGTransport transport, AGUpgradeRequest request) {
      return AGServer.this.accept(transport, request).connection();
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

