package io.agserver.protocol;

import java.lang.reflect.Array;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.agserver.codec.JsonCodec;
import io.agserver.codec.JsNumbers;

/**
 * sc-errors' dehydrateError and hydrateError: errors to and from the plain objects that cross the
 * wire.
 *
 * <p>Differences from JS, all where Java has no equivalent or JS gives nothing useful:
 * <ul>
 *   <li>{@link #dehydrate} of a non-AGError Throwable adds its simple class name as "name" (a JS
 *       Error's name is inherited, so JS sends only its message).</li>
 *   <li>{@link #dehydrate} copies shallowly; sc-errors' decycle pass (deep copy, repeated
 *       references replaced by {"$ref": path}) is not reproduced.</li>
 *   <li>{@link #hydrate} of a value that is neither an object nor null returns an AGError named
 *       "Error" whose message is the value as text and whose field "data" holds the value; JS
 *       returns the raw value.</li>
 *   <li>A hydrated error always has a name ("Error" by default), so dehydrating it again writes
 *       "name" even when the original object had none.</li>
 * </ul>
 */
public final class Errors {

  /**
   * Keys a fresh JS Error already answers (own, Error.prototype and Object.prototype properties):
   * hydrateError skips them because {@code hydratedError[key] !== undefined}.
   */
  private static final Set<String> JS_ERROR_PROPERTIES = Set.of(
      "name", "message", "stack", "constructor", "toString",
      "__defineGetter__", "__defineSetter__", "hasOwnProperty", "__lookupGetter__",
      "__lookupSetter__", "isPrototypeOf", "propertyIsEnumerable", "valueOf", "__proto__",
      "toLocaleString");

  private Errors() {
  }

  /**
   * An error as a JSON-ready value: an AGError becomes {message, name, ...fields}; another
   * Throwable {message, name: its simple class name}; a Map, bean or record a copy of its
   * properties with "message" first; a List or array an object keyed "0", "1", ... (JS treats
   * arrays as objects here); strings, numbers, booleans and null stay as they are. A null
   * message is left out, as JSON.stringify leaves out an undefined one.
   */
  public static Object dehydrate(Object error) {
    if (error instanceof AGError) {
      AGError agError = (AGError) error;
      Map<String, Object> out = new LinkedHashMap<>();
      putMessage(out, agError.getMessage());
      out.put("name", agError.name());
      out.putAll(agError.fields());
      return out;
    }
    if (error instanceof Throwable) {
      Throwable throwable = (Throwable) error;
      Map<String, Object> out = new LinkedHashMap<>();
      putMessage(out, throwable.getMessage());
      String name = throwable.getClass().getSimpleName();
      out.put("name", name.isEmpty() ? throwable.getClass().getName() : name);
      return out;
    }
    if (error instanceof Map) {
      return messageFirst((Map<?, ?>) error);
    }
    if (error instanceof List || (error != null && error.getClass().isArray())) {
      return indexed(error);
    }
    if (error == null || error instanceof CharSequence || error instanceof Number
        || error instanceof Boolean || error instanceof Character || error instanceof Enum) {
      return error;
    }
    Object properties = JsonCodec.instance().convert(error, Object.class);
    return properties instanceof Map ? messageFirst((Map<?, ?>) properties) : properties;
  }

  /**
   * An error back from its dehydrated form: from a Map, the name and message when they are
   * strings ("Error" and "Invalid error message format" otherwise) and every other key as a
   * field, except those a JS Error already has (stack, toString, __proto__, ...) which JS skips
   * too; a List or array is an object keyed by index; an AGError is returned as is and another
   * Throwable is dehydrated first. Any other value gives AGError("Error", value as text) with
   * field "data" = the value, where JS would return the raw value.
   */
  public static AGError hydrate(Object dehydrated) {
    if (dehydrated == null) {
      return null;
    }
    if (dehydrated instanceof AGError) {
      return (AGError) dehydrated;
    }
    if (dehydrated instanceof Throwable) {
      return hydrate(dehydrate(dehydrated));
    }
    if (dehydrated instanceof List || dehydrated.getClass().isArray()) {
      return hydrate(indexed(dehydrated));
    }
    if (!(dehydrated instanceof Map)) {
      return new AGError("Error", text(dehydrated)).with("data", dehydrated);
    }
    Map<?, ?> map = (Map<?, ?>) dehydrated;
    Object name = map.get("name");
    Object message = map.get("message");
    AGError error = new AGError(
        name instanceof String ? (String) name : "Error",
        message instanceof String ? (String) message : "Invalid error message format");
    for (Map.Entry<?, ?> entry : map.entrySet()) {
      String key = String.valueOf(entry.getKey());
      if (!JS_ERROR_PROPERTIES.contains(key)) {
        error.with(key, entry.getValue());
      }
    }
    return error;
  }

  private static void putMessage(Map<String, Object> out, String message) {
    if (message != null) {
      out.put("message", message);
    }
  }

  /** dehydrateError starts from {message: error.message}, then copies every own key. */
  private static Map<String, Object> messageFirst(Map<?, ?> source) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (source.containsKey("message")) {
      out.put("message", source.get("message"));
    }
    for (Map.Entry<?, ?> entry : source.entrySet()) {
      out.put(String.valueOf(entry.getKey()), entry.getValue());
    }
    return out;
  }

  private static Map<String, Object> indexed(Object listOrArray) {
    Map<String, Object> out = new LinkedHashMap<>();
    if (listOrArray instanceof List) {
      List<?> list = (List<?>) listOrArray;
      for (int i = 0; i < list.size(); i++) {
        out.put(Integer.toString(i), list.get(i));
      }
    } else {
      for (int i = 0, n = Array.getLength(listOrArray); i < n; i++) {
        out.put(Integer.toString(i), Array.get(listOrArray, i));
      }
    }
    return out;
  }

  /** The value as JS's String() would show it, for the message of a non-object error. */
  private static String text(Object value) {
    if (value instanceof Double) {
      return JsNumbers.toString((Double) value);
    }
    if (value instanceof Float) {
      return JsNumbers.toString((Float) value);
    }
    return String.valueOf(value);
  }
}
