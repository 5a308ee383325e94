package io.agserver.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import java.io.IOException;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Optionals as their content or null. Without the jdk8 module (not a dependency here) Jackson
 * refuses them; JS has no such wrapper, so the peer should see the bare value.
 */
final class OptionalSerializer extends StdSerializer<Object> {

  private static final long serialVersionUID = 1L;

  OptionalSerializer() {
    super(Object.class);
  }

  @Override
  public boolean isEmpty(SerializerProvider provider, Object value) {
    return value == null || content(value) == null;
  }

  @Override
  public void serialize(Object value, JsonGenerator generator, SerializerProvider provider)
      throws IOException {
    Object content = content(value);
    if (content == null) {
      generator.writeNull();
    } else {
      provider.defaultSerializeValue(content, generator);
    }
  }

  private static Object content(Object value) {
    if (value instanceof Optional) {
      return ((Optional<?>) value).orElse(null);
    }
    if (value instanceof OptionalInt) {
      OptionalInt o = (OptionalInt) value;
      return o.isPresent() ? (Object) o.getAsInt() : null;
    }
    if (value instanceof OptionalLong) {
      OptionalLong o = (OptionalLong) value;
      return o.isPresent() ? (Object) o.getAsLong() : null;
    }
    OptionalDouble o = (OptionalDouble) value;
    return o.isPresent() ? (Object) o.getAsDouble() : null;
  }
}
