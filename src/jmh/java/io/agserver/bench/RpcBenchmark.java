package io.agserver.bench;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import io.agserver.AGServer;
import io.agserver.core.Connection;

/**
 * One RPC on one socket: the raw invoke text frame as the endpoint hands it to the socket,
 * through the inbound processing and the procedure stream to an application consumer that
 * answers with request.data(), to the response frame handed to the transport.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RpcBenchmark {

  static final String RESPONSE = "{\"rid\":123,\"data\":" + BenchServers.DATA + "}";

  private AGServer server;
  private Connection socket;
  private BenchTransport transport;
  private long framesBefore;
  private String frame = CodecBenchmark.RPC_REQUEST;
  private long answered;
  private long answeredBefore;

  @Setup(Level.Trial)
  public void setUp() {
    server = BenchServers.server();
    transport = new BenchTransport();
    socket = BenchServers.connect(server, transport);
    socket.socket().procedure("echo").consume(request -> {
      answered++;
      request.end(request.data());
    });
    long before = transport.frames;
    echo();
    BenchServers.check(transport.frames == before + 1 && RESPONSE.equals(transport.lastText),
        "the echo was answered with " + transport.lastText);
    framesBefore = transport.frames;
    answeredBefore = answered;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    // One response frame per echo, each handled inline by the consumer.
    long responses = transport.frames - framesBefore;
    BenchServers.check(responses > 0 && responses == answered - answeredBefore
        && RESPONSE.equals(transport.lastText) && transport.closeCode == null,
        responses + " responses to " + (answered - answeredBefore) + " echoes, the last "
            + transport.lastText);
    server.close();
  }

  // An echo invoke from frame to response frame (decode, procedure stream, encode, queue): the per-RPC cost.
  @Benchmark
  public long echo() {
    socket.receive(frame);
    return transport.frames;
  }
}
