package io.agserver.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import io.agserver.codec.JsonCodec;

class AGErrorTest {

  private static String dehydratedJson(AGError error) {
    return JsonCodec.instance().encode(Errors.dehydrate(error));
  }

  /** Expected texts are node's JSON.stringify(dehydrateError(new scErrors.XError(...))). */
  static Stream<Arguments> factories() {
    return Stream.of(
        Arguments.of(AGError.authTokenExpired("jwt expired", new Date(0)),
            "{\"message\":\"jwt expired\",\"name\":\"AuthTokenExpiredError\",\"expiry\":\"1970-01-01T00:00:00.000Z\"}"),
        Arguments.of(AGError.authTokenExpired("jwt expired", 1700000000),
            "{\"message\":\"jwt expired\",\"name\":\"AuthTokenExpiredError\",\"expiry\":1700000000}"),
        Arguments.of(AGError.authTokenInvalid("bad"),
            "{\"message\":\"bad\",\"name\":\"AuthTokenInvalidError\"}"),
        Arguments.of(AGError.authTokenNotBefore("nbf", new Date(0)),
            "{\"message\":\"nbf\",\"name\":\"AuthTokenNotBeforeError\",\"date\":\"1970-01-01T00:00:00.000Z\"}"),
        Arguments.of(AGError.authToken("x"), "{\"message\":\"x\",\"name\":\"AuthTokenError\"}"),
        Arguments.of(AGError.auth("x"), "{\"message\":\"x\",\"name\":\"AuthError\"}"),
        Arguments.of(AGError.silentMiddlewareBlocked("blocked", "publishIn"),
            "{\"message\":\"blocked\",\"name\":\"SilentMiddlewareBlockedError\",\"type\":\"publishIn\"}"),
        Arguments.of(AGError.invalidAction("x"), "{\"message\":\"x\",\"name\":\"InvalidActionError\"}"),
        Arguments.of(AGError.invalidArguments("x"), "{\"message\":\"x\",\"name\":\"InvalidArgumentsError\"}"),
        Arguments.of(AGError.invalidOptions("x"), "{\"message\":\"x\",\"name\":\"InvalidOptionsError\"}"),
        Arguments.of(AGError.invalidMessage("x"), "{\"message\":\"x\",\"name\":\"InvalidMessageError\"}"),
        Arguments.of(AGError.socketProtocol("Socket hung up", 1006),
            "{\"message\":\"Socket hung up\",\"name\":\"SocketProtocolError\",\"code\":1006}"),
        Arguments.of(AGError.serverProtocol("x"), "{\"message\":\"x\",\"name\":\"ServerProtocolError\"}"),
        Arguments.of(AGError.httpServer("x"), "{\"message\":\"x\",\"name\":\"HTTPServerError\"}"),
        Arguments.of(AGError.resourceLimit("x"), "{\"message\":\"x\",\"name\":\"ResourceLimitError\"}"),
        Arguments.of(AGError.timeout("x"), "{\"message\":\"x\",\"name\":\"TimeoutError\"}"),
        Arguments.of(AGError.badConnection("x", "disconnect", null, null),
            "{\"message\":\"x\",\"name\":\"BadConnectionError\",\"type\":\"disconnect\",\"code\":1001,\"reason\":\"Socket was disconnected\"}"),
        Arguments.of(AGError.broker("x"), "{\"message\":\"x\",\"name\":\"BrokerError\"}"),
        Arguments.of(AGError.processExit("x", 1), "{\"message\":\"x\",\"name\":\"ProcessExitError\",\"code\":1}"),
        Arguments.of(AGError.unknown("x"), "{\"message\":\"x\",\"name\":\"UnknownError\"}"));
  }

  @ParameterizedTest
  @MethodSource("factories")
  void factoryDehydratesLikeScErrors(AGError error, String nodeJson) {
    assertEquals(nodeJson, dehydratedJson(error));
  }

  @Test
  void badConnectionDefaultsAsTheJsConstructor() {
    // new BadConnectionError('x', 'disconnect', 1000 | 4000 | 0, reason) in node.
    assertEquals("{\"message\":\"x\",\"name\":\"BadConnectionError\",\"type\":\"disconnect\",\"code\":1000,\"reason\":\"Socket closed normally\"}",
        dehydratedJson(AGError.badConnection("x", "disconnect", 1000, null)));
    assertEquals("{\"message\":\"x\",\"name\":\"BadConnectionError\",\"type\":\"disconnect\",\"code\":4000,\"reason\":\"\"}",
        dehydratedJson(AGError.badConnection("x", "disconnect", 4000, null)));
    assertEquals("{\"message\":\"x\",\"name\":\"BadConnectionError\",\"type\":\"disconnect\",\"code\":4000,\"reason\":\"why\"}",
        dehydratedJson(AGError.badConnection("x", "disconnect", 4000, "why")));
    assertEquals("{\"message\":\"x\",\"name\":\"BadConnectionError\",\"type\":\"disconnect\",\"code\":1001,\"reason\":\"Socket was disconnected\"}",
        dehydratedJson(AGError.badConnection("x", "disconnect", 0, "")));
    // new BadConnectionError('x'): type undefined is dropped by JSON.stringify.
    assertEquals("{\"message\":\"x\",\"name\":\"BadConnectionError\",\"code\":1001,\"reason\":\"Socket was disconnected\"}",
        dehydratedJson(AGError.badConnection("x", null, null, null)));
  }

  @Test
  void missingArgumentsAreLeftOutLikeUndefined() {
    // node: JSON.stringify(dehydrateError(new SilentMiddlewareBlockedError('x'))), (new AuthError())
    assertEquals("{\"message\":\"x\",\"name\":\"SilentMiddlewareBlockedError\"}",
        dehydratedJson(AGError.silentMiddlewareBlocked("x", null)));
    assertEquals("{\"name\":\"AuthError\"}", dehydratedJson(AGError.auth(null)));
  }

  @Test
  void jsonStringifyOfTheErrorItselfPutsNameFirst() {
    // node: JSON.stringify(new AuthTokenExpiredError('x', 5))
    assertEquals("{\"name\":\"AuthTokenExpiredError\",\"message\":\"x\",\"expiry\":5}",
        JsonCodec.instance().encode(AGError.authTokenExpired("x", 5)));
  }

  @Test
  void fieldsKeepInsertionOrderAndOverwriteInPlace() {
    AGError error = new AGError("CustomError", "m").with("b", 1).with("a", 2).with("b", 3);
    assertEquals(List.of("b", "a"), List.copyOf(error.fields().keySet()));
    assertEquals(3, error.get("b"));
    assertNull(error.get("missing"));
    assertEquals("{\"message\":\"m\",\"name\":\"CustomError\",\"b\":3,\"a\":2}", dehydratedJson(error));
    error.with("n", null);
    assertEquals(true, error.fields().containsKey("n"));
  }

  @Test
  void fieldsViewIsReadOnly() {
    AGError error = AGError.socketProtocol("m", 4000);
    Map<String, Object> fields = error.fields();
    assertThrows(UnsupportedOperationException.class, () -> fields.put("x", 1));
  }

  @Test
  void nameAndMessageAreNotExtraFields() {
    AGError error = AGError.auth("m");
    assertThrows(IllegalArgumentException.class, () -> error.with("name", "x"));
    assertThrows(IllegalArgumentException.class, () -> error.with("message", "x"));
  }

  @Test
  void exposesNameMessageCauseAndJsToString() {
    IllegalStateException cause = new IllegalStateException("root");
    AGError error = new AGError("BrokerError", "failed", cause);
    assertEquals("BrokerError", error.name());
    assertEquals("failed", error.getMessage());
    assertSame(cause, error.getCause());
    // node: String(new BrokerError('failed')), String(new BrokerError(''))
    assertEquals("BrokerError: failed", error.toString());
    assertEquals("BrokerError", AGError.broker("").toString());
  }
}
