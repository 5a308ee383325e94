package io.agserver.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.agserver.AGServer;
import io.agserver.core.Connection;
import io.agserver.codec.JsonCodec;

/**
 * One publish to a channel with 1, 100 or 1000 subscribers, per publish: the broker encodes it
 * once and every subscriber is a real AGServerSocket that queues the shared frame in its
 * OutboundQueue and hands it to a transport that completes at once. Measures the server-side
 * fan-out that decides how many publishes a second one instance can deliver.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PublishBenchmark {

  @Param({"1", "100", "1000"})
  public int subscribers;

  private AGServer server;
  private final List<BenchTransport> transports = new ArrayList<>();
  private Connection publisher;
  private BenchTransport publisherTransport;
  private Object data;
  private String channel = BenchServers.CHANNEL;
  private String publishFrame = CodecBenchmark.PUBLISH;
  private long framesBefore;

  @Setup(Level.Trial)
  public void setUp() {
    server = BenchServers.server();
    for (int i = 0; i < subscribers; i++) {
      BenchTransport transport = new BenchTransport();
      Connection socket = BenchServers.connect(server, transport);
      BenchServers.subscribe(socket, transport, BenchServers.CHANNEL);
      transports.add(transport);
    }
    // Publishes from a client that is not subscribed: only the subscribers' frames go out.
    publisherTransport = new BenchTransport();
    publisher = BenchServers.connect(server, publisherTransport);
    Map<?, ?> packet = (Map<?, ?>) JsonCodec.instance().decode(CodecBenchmark.PUBLISH);
    data = ((Map<?, ?>) packet.get("data")).get("data");

    // Both paths deliver exactly the packet the client sent, once to each subscriber.
    long before = publisherTransport.frames;
    long delivered = transports.get(0).frames;
    serverPublish();
    clientPublish();
    for (BenchTransport transport : transports) {
      BenchServers.check(transport.frames == delivered + 2
          && CodecBenchmark.PUBLISH.equals(transport.lastText), "delivered " + transport.lastText);
    }
    BenchServers.check(publisherTransport.frames == before,
        "the publisher received " + publisherTransport.lastText);
    framesBefore = transports.get(0).frames;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    // Every subscriber got every publish, and no socket was closed on the way.
    long frames = transports.get(0).frames;
    BenchServers.check(frames > framesBefore, "nothing was delivered");
    for (BenchTransport transport : transports) {
      BenchServers.check(transport.frames == frames && transport.closeCode == null,
          "a subscriber got " + transport.frames + " frames instead of " + frames
              + (transport.closeCode == null ? "" : ", closed with " + transport.closeCode));
    }
    server.close();
  }

  // A server-side publish (exchange, broker, each socket, OutboundQueue, transport): the fan-out itself.
  @Benchmark
  public CompletionStage<Void> serverPublish() {
    return server.exchange().transmitPublish(channel, data);
  }

  // A client's raw #publish frame as the endpoint hands it to its socket: decode, checks, the same fan-out.
  @Benchmark
  public long clientPublish() {
    publisher.receive(publishFrame);
    return publisherTransport.frames;
  }
}
