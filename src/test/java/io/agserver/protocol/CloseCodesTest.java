package io.agserver.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CloseCodesTest {

  /** node: JSON.stringify(require('sc-errors').socketProtocolErrorStatuses) */
  @Test
  void errorReasonsAreSocketProtocolErrorStatuses() {
    Map<Integer, String> expected = new LinkedHashMap<>();
    expected.put(1001, "Socket was disconnected");
    expected.put(1002, "A WebSocket protocol error was encountered");
    expected.put(1003, "Server terminated socket because it received invalid data");
    expected.put(1005, "Socket closed without status code");
    expected.put(1006, "Socket hung up");
    expected.put(1007, "Message format was incorrect");
    expected.put(1008, "Encountered a policy violation");
    expected.put(1009, "Message was too big to process");
    expected.put(1010, "Client ended the connection because the server did not comply with extension requirements");
    expected.put(1011, "Server encountered an unexpected fatal condition");
    expected.put(4000, "Server ping timed out");
    expected.put(4001, "Client pong timed out");
    expected.put(4002, "Server failed to sign auth token");
    expected.put(4003, "Failed to complete handshake");
    expected.put(4004, "Client failed to save auth token");
    expected.put(4005, "Did not receive #handshake from client before timeout");
    expected.put(4006, "Failed to bind socket to message broker");
    expected.put(4007, "Client connection establishment timed out");
    expected.put(4008, "Server rejected handshake from client");
    expected.put(4009, "Server received a message before the client handshake");
    assertEquals(expected, CloseCodes.errorReasons());
    assertEquals(expected.keySet().toString(), CloseCodes.errorReasons().keySet().toString());
    expected.forEach((code, reason) -> assertEquals(reason, CloseCodes.errorReason(code)));
    assertNull(CloseCodes.errorReason(1000));
    assertNull(CloseCodes.errorReason(4010));
  }

  @Test
  void ignoreReasonsAreSocketProtocolIgnoreStatuses() {
    assertEquals(Map.of(1000, "Socket closed normally", 1001, "Socket was disconnected"),
        CloseCodes.ignoreReasons());
    assertEquals("Socket closed normally", CloseCodes.ignoreReason(1000));
    assertEquals("Socket was disconnected", CloseCodes.ignoreReason(1001));
    assertNull(CloseCodes.ignoreReason(1006));
    assertTrue(CloseCodes.isIgnored(1000));
    assertTrue(CloseCodes.isIgnored(1001));
    assertFalse(CloseCodes.isIgnored(1006));
    assertFalse(CloseCodes.isIgnored(4000));
  }

  @Test
  void constantsHaveTheirCodes() {
    int[] codes = {CloseCodes.NORMAL, CloseCodes.GOING_AWAY, CloseCodes.PROTOCOL_ERROR,
        CloseCodes.INVALID_DATA, CloseCodes.NO_STATUS, CloseCodes.ABNORMAL, CloseCodes.INVALID_PAYLOAD,
        CloseCodes.POLICY_VIOLATION, CloseCodes.MESSAGE_TOO_BIG, CloseCodes.MANDATORY_EXTENSION,
        CloseCodes.SERVER_ERROR, CloseCodes.SERVER_PING_TIMEOUT, CloseCodes.PONG_TIMEOUT,
        CloseCodes.AUTH_SIGN_FAILED, CloseCodes.HANDSHAKE_FAILED, CloseCodes.AUTH_SAVE_FAILED,
        CloseCodes.HANDSHAKE_TIMEOUT, CloseCodes.BROKER_BIND_FAILED, CloseCodes.CONNECT_TIMEOUT,
        CloseCodes.HANDSHAKE_REJECTED, CloseCodes.STRICT_HANDSHAKE};
    int[] expected = {1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011,
        4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4009};
    assertEquals(java.util.Arrays.toString(expected), java.util.Arrays.toString(codes));
    for (int code : codes) {
      assertTrue(code == CloseCodes.NORMAL || CloseCodes.errorReason(code) != null, "reason for " + code);
    }
  }
}
