package io.agserver.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import io.agserver.protocol.AGError;
import io.agserver.protocol.Errors;
import io.agserver.codec.JsonCodec;
import io.agserver.pubsub.AGSimpleBroker;

/**
 * The default codec (JsonCodec) on the packets of every exchange: what each inbound frame and
 * each response or publish costs before any socket logic.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CodecBenchmark {

  static final String RPC_REQUEST = "{\"event\":\"echo\",\"data\":" + BenchServers.DATA + ",\"cid\":123}";
  static final String PUBLISH = "{\"event\":\"#publish\",\"data\":{\"channel\":\"" + BenchServers.CHANNEL
      + "\",\"data\":" + BenchServers.DATA + "}}";

  private final JsonCodec codec = JsonCodec.instance();
  // Inputs in fields, not constants, so that the JIT cannot fold them into the code.
  private String rpcRequest = RPC_REQUEST;
  private String publish = PUBLISH;
  private String ping = "";
  private String channel = BenchServers.CHANNEL;
  private Object rid;
  private Object data;
  private AGError error;

  @Setup
  public void setUp() {
    Map<?, ?> request = (Map<?, ?>) codec.decode(RPC_REQUEST);
    rid = request.get("cid");
    data = request.get("data");
    error = AGError.invalidAction("Publish channel name was malformatted");
    String expected = "{\"rid\":123,\"data\":" + BenchServers.DATA + "}";
    BenchServers.check(expected.equals(responseFastPath()) && expected.equals(responseMapPath()),
        "the response is not " + expected + ": " + responseFastPath() + " / " + responseMapPath());
    BenchServers.check(PUBLISH.equals(encodePublish()),
        "the publish is not " + PUBLISH + ": " + encodePublish());
  }

  // Decoding an RPC request: done for every invoke a client sends (parse, JS number and key rules).
  @Benchmark
  public Object decodeRpcRequest() {
    return codec.decode(rpcRequest);
  }

  // Decoding a client's #publish packet: done once per publish, before the fan-out.
  @Benchmark
  public Object decodePublish() {
    return codec.decode(publish);
  }

  // Decoding a protocol-v2 ping '': the floor of a codec call, on the most frequent frame of idle sockets.
  @Benchmark
  public Object decodePing() {
    return codec.decode(ping);
  }

  // The RPC response through encodeResponse, the fast path AGServerSocket takes for every answer.
  @Benchmark
  public String responseFastPath() {
    return codec.encodeResponse(rid, "data", data);
  }

  // The same response as a map through encode() (other codecs, batches): the fast path's baseline.
  @Benchmark
  public String responseMapPath() {
    Map<String, Object> packet = new LinkedHashMap<>(4);
    packet.put("rid", rid);
    packet.put("data", data);
    return codec.encode(packet);
  }

  // The bare acknowledgement {"rid":123} of #subscribe, #publish with a cid and end(): many per client.
  @Benchmark
  public String ackFastPath() {
    return codec.encodeResponse(rid, null, null);
  }

  // A #publish packet as the broker encodes it once per publish (packet maps built, then encode()).
  @Benchmark
  public String encodePublish() {
    return codec.encode(AGSimpleBroker.publishPacket(channel, data));
  }

  // An error response as AGRequest.error sends it (AGError dehydrated, then encodeResponse): rejected RPCs.
  @Benchmark
  public String errorResponse() {
    return codec.encodeResponse(rid, "error", Errors.dehydrate(error));
  }
}
