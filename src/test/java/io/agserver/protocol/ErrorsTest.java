package io.agserver.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import io.agserver.codec.JsonCodec;

class ErrorsTest {

  private final JsonCodec codec = JsonCodec.instance();

  private String json(Object value) {
    return codec.encode(value);
  }

  @Test
  void dehydratesOtherThrowablesWithTheirSimpleClassName() {
    // JS sends only {"message":"plain"} for a native Error; the class name is a Java addition.
    assertEquals("{\"message\":\"plain\",\"name\":\"IllegalStateException\"}",
        json(Errors.dehydrate(new IllegalStateException("plain"))));
    assertEquals("{\"name\":\"NullPointerException\"}", json(Errors.dehydrate(new NullPointerException())));
  }

  @Test
  void dehydratesPrimitivesAsTheyAre() {
    // node: dehydrateError('str'), (5), (null), (true)
    assertEquals("str", Errors.dehydrate("str"));
    assertEquals(5, Errors.dehydrate(5));
    assertNull(Errors.dehydrate(null));
    assertEquals(true, Errors.dehydrate(true));
  }

  @Test
  void dehydratesMapsWithMessageFirst() {
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("a", 1);
    source.put("message", "m");
    Object copy = Errors.dehydrate(source);
    // node: JSON.stringify(dehydrateError({a:1,message:'m'}))
    assertEquals("{\"message\":\"m\",\"a\":1}", json(copy));
    source.put("b", 2);
    assertEquals("{\"message\":\"m\",\"a\":1}", json(copy), "a copy, not a view");
    assertEquals("{\"a\":1}", json(Errors.dehydrate(Map.of("a", 1))));
  }

  @Test
  void dehydratesListsAndArraysAsIndexedObjects() {
    // node: JSON.stringify(dehydrateError([1,2]))
    assertEquals("{\"0\":1,\"1\":2}", json(Errors.dehydrate(List.of(1, 2))));
    assertEquals("{\"0\":1,\"1\":2}", json(Errors.dehydrate(new int[] {1, 2})));
  }

  record Failure(String code, String message) {
  }

  @Test
  void dehydratesRecordsByTheirProperties() {
    assertEquals("{\"message\":\"m\",\"code\":\"E1\"}", json(Errors.dehydrate(new Failure("E1", "m"))));
  }

  @Test
  void hydratesNameMessageAndFields() {
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("message", "m");
    source.put("name", "N");
    source.put("a", 1);
    AGError error = Errors.hydrate(source);
    assertEquals("N", error.name());
    assertEquals("m", error.getMessage());
    assertEquals(Map.of("a", 1), error.fields());
    // node: JSON.stringify(dehydrateError(hydrateError({message:'m',name:'N',a:1})))
    assertEquals("{\"message\":\"m\",\"name\":\"N\",\"a\":1}", json(Errors.dehydrate(error)));
  }

  @Test
  void hydrateSkipsNonStringNameMessageAndJsErrorProperties() {
    // node: hydrateError({message:5,name:6,stack:'s',constructor:1,toString:2,a:1,__proto__x:3})
    // gives message 'Invalid error message format', name 'Error', own keys [a, __proto__x].
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("message", 5);
    source.put("name", 6);
    source.put("stack", "s");
    source.put("constructor", 1);
    source.put("toString", 2);
    source.put("a", 1);
    source.put("__proto__x", 3);
    AGError error = Errors.hydrate(source);
    assertEquals("Error", error.name());
    assertEquals("Invalid error message format", error.getMessage());
    assertEquals(List.of("a", "__proto__x"), List.copyOf(error.fields().keySet()));

    // node: hydrateError(JSON.parse('{"message":"m","__proto__":{"z":1},"valueOf":3,"hasOwnProperty":1}'))
    // keeps none of those keys.
    AGError parsed = Errors.hydrate(codec.decode(
        "{\"message\":\"m\",\"__proto__\":{\"z\":1},\"valueOf\":3,\"hasOwnProperty\":1}"));
    assertEquals("m", parsed.getMessage());
    assertTrue(parsed.fields().isEmpty());
  }

  @Test
  void hydratesListsAsIndexedObjects() {
    // node: hydrateError([7,8]) has message 'Invalid error message format', keys ["0","1"].
    AGError error = Errors.hydrate(List.of(7, 8));
    assertEquals("Error", error.name());
    assertEquals("Invalid error message format", error.getMessage());
    assertEquals(List.of("0", "1"), List.copyOf(error.fields().keySet()));
  }

  @Test
  void hydratesNonObjectsIntoAnErrorCarryingTheValue() {
    assertNull(Errors.hydrate(null));
    AGError fromString = Errors.hydrate("str");
    assertEquals("Error", fromString.name());
    assertEquals("str", fromString.getMessage());
    assertEquals("str", fromString.get("data"));
    AGError fromNumber = Errors.hydrate(5.0);
    assertEquals("5", fromNumber.getMessage());
    assertEquals(5.0, fromNumber.get("data"));
  }

  @Test
  void hydrateReturnsAnAGErrorItselfAndConvertsOtherThrowables() {
    AGError error = AGError.timeout("t");
    assertSame(error, Errors.hydrate(error));
    AGError converted = Errors.hydrate(new IllegalArgumentException("bad"));
    assertEquals("IllegalArgumentException", converted.name());
    assertEquals("bad", converted.getMessage());
  }

  static List<AGError> allFactories() {
    return Arrays.asList(
        AGError.authTokenExpired("jwt expired", 1700000000), AGError.authTokenInvalid("m"),
        AGError.authTokenNotBefore("m", "2020-01-01T00:00:00.000Z"), AGError.authToken("m"),
        AGError.auth("m"), AGError.silentMiddlewareBlocked("m", "invoke"), AGError.invalidAction("m"),
        AGError.invalidArguments("m"), AGError.invalidOptions("m"), AGError.invalidMessage("m"),
        AGError.socketProtocol("m", 4001), AGError.serverProtocol("m"), AGError.httpServer("m"),
        AGError.resourceLimit("m"), AGError.timeout("m"),
        AGError.badConnection("m", "handshake", 4008, "no"), AGError.broker("m"),
        AGError.processExit("m", 2), AGError.unknown("m"),
        new AGError("Custom", "m").with("nested", Map.of("list", List.of(1, 2.5, "x"))).with("nil", null));
  }

  @ParameterizedTest
  @MethodSource("allFactories")
  void roundTripsOverTheWire(AGError original) {
    String wire = json(Errors.dehydrate(original));
    AGError back = Errors.hydrate(codec.decode(wire));
    assertEquals(original.name(), back.name());
    assertEquals(original.getMessage(), back.getMessage());
    assertEquals(original.fields(), back.fields());
    assertEquals(wire, json(Errors.dehydrate(back)));
  }
}
