package io.agserver.codec;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds plain Java values from JSON with the results JSON.parse gives a JS program.
 *
 * <p>Numbers: JS reads every number as a double. Integral values within ±2^53 become Integer (when
 * they fit) or Long; everything else stays a Double holding exactly the double JS would hold, so
 * "1.0" and "1e2" read as Integer 1 and 100, and 123456789012345678901 as the Double
 * 1.2345678901234568E20. Re-encoding any decoded value writes what JSON.stringify would.
 *
 * <p>Objects: a later duplicate key replaces the value but keeps the first position, and
 * array-index keys ("0" .. "4294967294") come first in ascending order, as in a JS object.
 */
final class JsValueReader {

  private static final long MAX_SAFE_INTEGER = 1L << 53;
  private static final long MAX_ARRAY_INDEX = 4294967294L;

  private JsValueReader() {
  }

  /** Reads one whole document; trailing content is an error, as for JSON.parse. */
  static Object readDocument(JsonParser parser) throws IOException {
    Object value = read(parser, parser.nextToken());
    if (parser.nextToken() != null) {
      throw new JsonParseException(parser, "Unexpected content after the JSON value");
    }
    return value;
  }

  private static Object read(JsonParser parser, JsonToken token) throws IOException {
    if (token == null) {
      throw new JsonParseException(parser, "Unexpected end of JSON input");
    }
    switch (token) {
      case START_OBJECT:
        return readObject(parser);
      case START_ARRAY:
        return readArray(parser);
      case VALUE_STRING:
        return parser.getText();
      case VALUE_NUMBER_INT:
        return readInteger(parser);
      case VALUE_NUMBER_FLOAT:
        return number(parser.getDoubleValue());
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new JsonParseException(parser, "Unexpected token " + token);
    }
  }

  private static Map<String, Object> readObject(JsonParser parser) throws IOException {
    Map<String, Object> map = new LinkedHashMap<>();
    boolean hasIndexKeys = false;
    String name;
    while ((name = parser.nextFieldName()) != null) {
      map.put(name, read(parser, parser.nextToken()));
      hasIndexKeys = hasIndexKeys || isArrayIndex(name);
    }
    return hasIndexKeys ? indexKeysFirst(map) : map;
  }

  private static List<Object> readArray(JsonParser parser) throws IOException {
    List<Object> list = new ArrayList<>();
    JsonToken token;
    while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
      list.add(read(parser, token));
    }
    return list;
  }

  private static Object readInteger(JsonParser parser) throws IOException {
    switch (parser.getNumberType()) {
      case INT:
        return parser.getIntValue();
      case LONG:
        long value = parser.getLongValue();
        boolean safe = value >= -MAX_SAFE_INTEGER && value <= MAX_SAFE_INTEGER;
        return safe ? (Object) value : number((double) value);
      default:
        // Parsing the text rounds once, as JS does; going through BigInteger is also slower.
        return number(Double.parseDouble(parser.getText()));
    }
  }

  static Object number(double value) {
    if (value == Math.rint(value) && !Double.isInfinite(value)) {
      if (value >= Integer.MIN_VALUE && value <= Integer.MAX_VALUE) {
        return (int) value;
      }
      if (Math.abs(value) <= MAX_SAFE_INTEGER) {
        return (long) value;
      }
    }
    return value;
  }

  /** A canonical decimal integer up to 2^32 - 2, which JS orders before other keys. */
  static boolean isArrayIndex(String key) {
    int length = key.length();
    if (length == 0 || length > 10) {
      return false;
    }
    char first = key.charAt(0);
    if (first == '0') {
      return length == 1;
    }
    long value = 0;
    for (int i = 0; i < length; i++) {
      char c = key.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
      value = value * 10 + (c - '0');
    }
    return value <= MAX_ARRAY_INDEX;
  }

  private static Map<String, Object> indexKeysFirst(Map<String, Object> map) {
    List<String> indexKeys = new ArrayList<>();
    for (String key : map.keySet()) {
      if (isArrayIndex(key)) {
        indexKeys.add(key);
      }
    }
    indexKeys.sort((a, b) -> Long.compare(Long.parseLong(a), Long.parseLong(b)));
    Map<String, Object> ordered = new LinkedHashMap<>(map.size() * 2);
    for (String key : indexKeys) {
      ordered.put(key, map.get(key));
    }
    for (Map.Entry<String, Object> entry : map.entrySet()) {
      if (!isArrayIndex(entry.getKey())) {
        ordered.put(entry.getKey(), entry.getValue());
      }
    }
    return ordered;
  }
}
